// The code the README's agent runs in its sessions, shared by the demo (dev server) and the
// embedded end-to-end run (microVMs), so both show the same workspace story.

/**
 * Session 1: the agent saves a reusable skill and its results in the workspace. `writtenBy` goes into
 * results.json; `extra` is more Python run before the listing (e.g. REPL state to check later).
 */
export const writeResultsAndSkill = (writtenBy, extra = "") => `
import json, os, platform
os.makedirs("/workspace/skills", exist_ok=True)
with open("/workspace/skills/fib.py", "w") as f:
    _ = f.write("def fib(n):\\n    a, b = 0, 1\\n    for _ in range(n):\\n        a, b = b, a + b\\n    return a\\n")
with open("/workspace/results.json", "w") as f:
    json.dump({"written_by": ${JSON.stringify(writtenBy)}, "python": platform.python_version(), "role": os.environ.get("AGENT_ROLE")}, f)
${extra}
print("wrote", sorted(os.listdir("/workspace")))
`;

/** Session 2: a new sandbox session reads session 1's results back and reuses its saved skill. */
export const READ_BACK_AND_REUSE_SKILL = `
import json, sys
sys.path.insert(0, "/workspace/skills")
from fib import fib
data = json.load(open("/workspace/results.json"))
print("session 2 read:", data)
print("fib(30) via the saved skill =", fib(30))
_ = open("/workspace/session2.txt", "w").write(f"fib(30)={fib(30)}\\n")
`;

/** Session 3 (Node): the same workspace, read from another language's sandbox. */
export const NODE_READS_SESSION_2 = `require("fs").readFileSync("/workspace/session2.txt", "utf8").trim()`;

// The Python REPL driver, run inside the sandbox as `python3 -u -c PYTHON_DRIVER`.
// Requests arrive on fd 3 as JSON lines {code, marker}; stdin stays /dev/null so `input()` cannot
// swallow the next request. Each top-level statement is compiled in "single" mode, which gives
// the interactive console's behaviour (bare expressions echo their repr, `_` is set) without its
// line-by-line quirks: blank lines inside a block are fine. The first failing statement stops
// the run, like a notebook cell. After every run the driver writes "\n<marker>\n" on stdout AND
// stderr, so the host can tell which run a traceback belongs to and a last line without newline
// is still terminated. SIGINT is honoured only while user code runs (→ KeyboardInterrupt).
// A request {adopt: {env, cwd}} (sent by the supervisor at attach to a driver parked in a pooled
// sandbox, ahead of any user run) sets the environment and working folder and answers nothing.

export const PYTHON_DRIVER = String.raw`
import ast, builtins, code, json, os, signal, sys, types
# User code gets a fresh __main__ module (so pickle and typing find its classes), while the
# driver's own names stay in the original -c module, out of the user's way.
main = types.ModuleType("__main__")
main.__builtins__ = builtins
sys.modules["__main__"] = main
sys.argv = [""]
namespace = main.__dict__
interp = code.InteractiveInterpreter(namespace)
pending = b""

def read_request():
    global pending
    while b"\n" not in pending:
        chunk = os.read(3, 65536)
        if not chunk:
            sys.exit(0)
        pending += chunk
    line, _, pending = pending.partition(b"\n")
    return json.loads(line)

def execute(source):
    try:
        tree = ast.parse(source, "<stdin>", "exec")
    except (SyntaxError, ValueError, OverflowError):
        interp.showsyntaxerror("<stdin>")
        return
    for statement in tree.body:
        try:
            compiled = compile(ast.Interactive(body=[statement]), "<stdin>", "single")
        except (SyntaxError, ValueError, OverflowError):
            interp.showsyntaxerror("<stdin>")
            return
        try:
            exec(compiled, namespace)
        except SystemExit:
            raise
        except BaseException:
            interp.showtraceback()
            return

def end_marker(marker):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    data = b"\n" + marker.encode() + b"\n"
    os.write(1, data)
    os.write(2, data)

def adopt(settings):
    # A driver started in a waiting pooled sandbox gets the sandbox's environment and workdir here,
    # before any run: the same os.environ (and C environment, for child processes) and working folder
    # a driver started after attach inherits.
    os.environ.clear()
    os.environ.update(settings["env"])
    os.chdir(settings["cwd"])

signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    request = read_request()
    if "adopt" in request:
        adopt(request["adopt"])
        continue
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            execute(request["code"])
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        sys.stderr.write("KeyboardInterrupt\n")
    end_marker(request["marker"])
`;

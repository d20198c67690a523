import { LAUNCHER_EXIT_CODE, mountApiPrelude } from "../containment/mount-api-python.js";

// The root-mode attach helper (Debian's /usr/bin/python3 with ctypes, like the launcher: Node has
// no open_tree/mount_setattr/move_mount/setns). One long-lived process per runtime (started on the
// first claim, so a claim does not pay for a Python start) reads one JSON request per line and
// forks a child per request, which answers with one JSON line and exits; the child gives a waiting
// pooled sandbox its volumes and hostname, the same mounts a cold start gives (docs/dev-server.md#pool), in this order:
//   1. pidfd_open the sandbox's init, open its root and check, through the pidfd, that the pid
//      still names that process (no pid reuse in between);
//   2. for each volume, on the descriptor the server opened without following symlinks and holds
//      open until the answer (reached as /proc/<server>/fd/<n>, checked to be the same folder): open_tree(OPEN_TREE_CLONE) and mount_setattr(IDMAP | NOSUID | NODEV [| RDONLY]) with
//      the folder's owner mapped to the sandbox's uid, exactly as the launcher does;
//   3. setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS) and chroot into the sandbox's root, so mount
//      points resolve as the sandbox sees them; take the sandbox's uid as fsuid so a mount point
//      it creates belongs to the sandbox, never to host root;
//   4. for each volume, parents first: walk the guest path one component at a time with
//      O_NOFOLLOW (a symlink anywhere fails the attach), create missing folders, and move_mount
//      the tree onto the folder just opened (by descriptor, so the path is not resolved again);
//   5. sethostname(<sandbox name>).
// Nothing of the sandbox has run user code yet, and the server checks the finished mount table
// afterwards (containment/verify-mounts.ts) as after a cold start.
// A failure answers `msbv-attach: <step>: <error>` for that request only.

/**
 * The helper's priority (its children inherit it). A claim is a few milliseconds of bounded work
 * that never runs sandboxed code, and a create waits on it; at nice 0 a burst of 50 creates had
 * its claims queued behind the other sandboxes' REPLs and stops on 2 cores (p95 create 4.9 s; at
 * -10, 2.6 s, in the same A/B run). Filling the pool runs at nice 19 for the same reason reversed.
 */
const ATTACH_NICE = -10;

export const ATTACH_SERVER_SCRIPT = String.raw`${mountApiPrelude("msbv-attach")}
import signal
DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
request_id = None
def respond(answer):
    os.write(1, (json.dumps(answer) + "\n").encode())
def fail(message):
    # Replaces the prelude's: one answer line for this request, then this child ends.
    respond({"id": request_id, "error": "msbv-attach: %s: %s" % (step, message)})
    os._exit(${LAUNCHER_EXIT_CODE})
def attach():
    global step
    step = "open the volumes"
    for m in spec["mounts"]:
        fd = os.open(m["fdPath"], os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (m["dev"], m["ino"]): fail("the folder behind %s is not the one the server opened" % m["fdPath"])
        m["fd"] = fd
    step = "find the sandbox"
    pidfd = check(libc.syscall(PIDFD_OPEN, spec["pid"], 0))
    with open("/proc/%d/stat" % spec["pid"]) as f: ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    if ppid != spec["bwrapPid"]: fail("pid %d is not the sandbox's init" % spec["pid"])
    root = os.open("/proc/%d/root" % spec["pid"], os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    # Still the same process: a reused pid would have made the pidfd's process gone.
    signal.pidfd_send_signal(pidfd, 0)
    trees = [(m, idmapped_tree(m)) for m in spec["mounts"]]
    step = "priority"
    for pid in spec["renice"]:
        try: os.setpriority(os.PRIO_PROCESS, pid, spec["nice"])
        except ProcessLookupError: pass
    step = "enter the sandbox"
    check(libc.setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS))
    os.fchdir(root)
    os.chroot(".")
    libc.setfsgid(spec["gid"])
    libc.setfsuid(spec["uid"])
    if libc.setfsuid(-1) != spec["uid"] or libc.setfsgid(-1) != spec["gid"]: fail("fsuid/fsgid did not change")
    for m, tree in trees:
        step = "mount point %s" % m["guest"]
        current = os.open("/", DIR_FLAGS)
        for part in [p for p in m["guest"].split("/") if p]:
            if part in (".", ".."): fail("not a normalised path")
            try:
                following = os.open(part, DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                os.mkdir(part, 0o755, dir_fd=current)
                following = os.open(part, DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = following
        step = "mount %s" % m["guest"]
        check(libc.syscall(MOVE_MOUNT, tree, b"", current, b"", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
        os.close(current)
        os.close(tree)
    step = "hostname"
    name = spec["hostname"].encode()
    check(libc.sethostname(name, len(name)))
# Dies with the dev server (whose death would otherwise leave a root helper behind).
check(libc.prctl(1, 9, 0, 0, 0))
# A claim is a create waiting on it; see ATTACH_NICE.
os.setpriority(os.PRIO_PROCESS, 0, ${ATTACH_NICE})
if os.getppid() != int(sys.argv[2]): os._exit(0)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for line in sys.stdin.buffer:
    request = json.loads(line)
    if os.fork() == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        request_id = request["id"]
        spec = request["spec"]
        step = "start"
        try:
            attach()
        except SystemExit:
            raise
        except BaseException as error:
            fail(repr(error))
        respond({"id": request_id, "ok": True})
        os._exit(0)
`;

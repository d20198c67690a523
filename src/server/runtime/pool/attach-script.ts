import { LAUNCHER_EXIT_CODE, mountApiPrelude } from "../containment/mount-api-python.js";

// The root-mode attach helper (Debian's /usr/bin/python3 with ctypes, like the launcher: Node has
// no open_tree/mount_setattr/move_mount/setns). One long-lived process per runtime (started when
// the pool starts filling, so no claim pays for a Python start) reads one JSON request per line and
// answers each with one JSON line, one request at a time, in its own process: it gives a waiting
// pooled sandbox its volumes and hostname, the same mounts a cold start gives
// (docs/dev-server.md#pool), in this order:
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
//   5. sethostname(<sandbox name>);
//   6. whatever happened: back to the host's mount and UTS namespaces through descriptors opened
//      at start (setns to a mount namespace also resets root and working folder to its root),
//      fsuid/fsgid 0, every descriptor the request opened closed; then check that /proc/self/ns/mnt
//      and uts, "/", fsuid and fsgid are exactly what they were at start. Any difference, or any
//      error while going back, ends the helper at once (the server starts a new one): it never
//      serves a request from inside a sandbox.
// Why not a child per request, as before: each fork of the helper cost 20-40 ms of CPU on a
// 2-core VM (page tables, then a copy-on-write fault and TLB flush per page written), 75% of a
// claim's CPU, and it is a burst of claims that a pool is for (issue 14, perf profile of 50 claims).
// Requests are bounded work (a few system calls each), so serving them in turn costs no latency.
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
class Refused(Exception): pass
def fail(message):
    # Replaces the prelude's (which exits): this request fails, the helper goes back and serves on.
    raise Refused("msbv-attach: %s: %s" % (step, message))
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
    offer_sandbox_userns()
    # Still the same process: a reused pid would have made the pidfd's process gone.
    signal.pidfd_send_signal(pidfd, 0)
    trees = [(m, idmapped_tree(m)) for m in spec["mounts"]]
    step = "priority"
    for pid in spec["renice"]:
        # Every thread: setpriority names one, and the supervisor's V8 and libuv threads started at 19 too.
        try: tids = os.listdir("/proc/%d/task" % pid)
        except FileNotFoundError: continue
        for tid in tids:
            try: os.setpriority(os.PRIO_PROCESS, int(tid), spec["nice"])
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
        parts = [p for p in m["guest"].split("/") if p]
        for i, part in enumerate(parts):
            if part in (".", ".."): fail("not a normalised path")
            try:
                following = os.open(part, DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                # bubblewrap's modes in a cold start: 0700 for the folders it makes on the way, 0755 for the mount point.
                os.mkdir(part, 0o755 if i == len(parts) - 1 else 0o700, dir_fd=current)
                following = os.open(part, DIR_FLAGS, dir_fd=current)
            current = following
        step = "mount %s" % m["guest"]
        check(libc.syscall(MOVE_MOUNT, tree, b"", current, b"", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
    step = "hostname"
    name = spec["hostname"].encode()
    check(libc.sethostname(name, len(name)))
def single_map(kind):
    with open("/proc/%d/%s" % (spec["pid"], kind)) as f: return [tuple(int(n) for n in line.split()) for line in f.read().splitlines()]
def offer_sandbox_userns():
    # A root-owned folder needs the map "0 -> the sandbox's uid (and gid)", which is exactly the
    # sandbox's own user namespace (bubblewrap --uid 0 --gid 0 as the sandbox's uid): use it instead
    # of spawning a throw-away one (unshare + sh, ~13 ms of CPU per claim). Only when both maps are
    # that one line; any other folder owner still gets its own namespace.
    userns = os.open("/proc/%d/ns/user" % spec["pid"], os.O_RDONLY | os.O_CLOEXEC)
    if single_map("uid_map") == [(0, spec["uid"], 1)] and single_map("gid_map") == [(0, spec["gid"], 1)]:
        namespaces[(0, 0, spec["uid"], spec["gid"])] = userns
def open_fds():
    # The listing's own descriptor is in the list but closed by the time it is returned: dropped.
    def is_open(fd):
        try: return os.fstat(fd) is not None
        except OSError: return False
    return set(fd for fd in (int(n) for n in os.listdir("/proc/self/fd")) if is_open(fd))
def where_am_i():
    root = os.stat("/")
    return (os.stat("/proc/self/ns/mnt").st_ino, os.stat("/proc/self/ns/uts").st_ino, root.st_dev, root.st_ino, libc.setfsuid(-1), libc.setfsgid(-1), os.getgroups())
def go_back():
    try:
        if libc.setns(host_mnt, CLONE_NEWNS) != 0 or libc.setns(host_uts, CLONE_NEWUTS) != 0: raise OSError(ctypes.get_errno(), "setns back")
        libc.setfsuid(0)
        libc.setfsgid(0)
        os.fchdir(host_root)
        # Every descriptor the request opened, even one an error left behind.
        for fd in open_fds() - home_fds: os.close(fd)
        namespaces.clear()
        if where_am_i() != home: raise OSError("not back where it started: %r, not %r" % (where_am_i(), home))
    except BaseException as error:
        sys.stderr.write("msbv-attach: could not leave a sandbox, ending: %r\n" % (error,))
        sys.stderr.flush()
        os._exit(${LAUNCHER_EXIT_CODE})
# Dies with the dev server (whose death would otherwise leave a root helper behind).
check(libc.prctl(1, 9, 0, 0, 0))
# A claim is a create waiting on it; see ATTACH_NICE.
os.setpriority(os.PRIO_PROCESS, 0, ${ATTACH_NICE})
if os.getppid() != int(sys.argv[2]): os._exit(0)
# No supplementary groups (the launcher drops them too): while it acts as the sandbox's fsuid, only
# the sandbox's uid and gid may count for access checks, never a group of the server's user.
os.setgroups([])
host_mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
host_uts = os.open("/proc/self/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
host_root = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
os.fchdir(host_root)
home = where_am_i()
home_fds = open_fds()
for line in sys.stdin.buffer:
    request = json.loads(line)
    spec = request["spec"]
    step = "start"
    try:
        attach()
        answer = {"id": request["id"], "ok": True}
    except Refused as refused:
        answer = {"id": request["id"], "error": str(refused)}
    except Exception as error:
        answer = {"id": request["id"], "error": "msbv-attach: %s: %r" % (step, error)}
    go_back()
    os.write(1, (json.dumps(answer) + "\n").encode())
`;

// The root-mode launcher: a short Python program (Debian's /usr/bin/python3 with ctypes, so a
// fresh machine needs nothing extra; Node has no open_tree/mount_setattr/move_mount/unshare) that
// runs as root between the dev server and bubblewrap. In order:
//   1. for each writable/readonly bind: open_tree(fd, OPEN_TREE_CLONE) on the descriptor the
//      server opened (never a path), then mount_setattr(MOUNT_ATTR_IDMAP | NOSUID | NODEV [| RDONLY])
//      with a throw-away user namespace whose maps send the folder's owner to the sandbox's uid.
//      This must happen before step 2: open_tree(CLONE) refuses a mount of another namespace.
//   2. unshare(CLONE_NEWNS), make every mount private (nothing propagates back to the host), put a
//      tmpfs on /run/msbv-idmap and move_mount each detached tree onto a numbered folder there.
//      bubblewrap 0.8's --bind-fd binds the fd's path and then verifies it is the same inode, so
//      a detached tree (no path) cannot be given to it directly; a private, attached one can.
//   3. dup2 an O_PATH descriptor of each attached tree onto the number the server gave the
//      original descriptor (bwrap's arguments name those numbers), join the cgroups, set rlimits,
//      drop to the sandbox's uid/gid with no supplementary groups, close every other descriptor
//      and exec bubblewrap with an empty environment.
// Any failure prints one `msbv-launcher: <step>: <error>` line on stderr and exits 121; the server
// turns it into a typed error. There is no fallback that would keep host root.
export const LAUNCHER_EXIT_CODE = 121;

export const LAUNCHER_SCRIPT = String.raw`
import ctypes, json, os, sys, time
spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
# The new mount API has the same numbers on every architecture (x86_64 and aarch64 included).
OPEN_TREE, MOUNT_SETATTR, MOVE_MOUNT = 428, 442, 429
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_EMPTY_PATH = 1, 0o2000000, 0x1000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_IDMAP = 1, 2, 4, 0x100000
MOVE_MOUNT_F_EMPTY_PATH = 4
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]
step = "start"
def fail(message):
    sys.stderr.write("msbv-launcher: %s: %s\n" % (step, message))
    sys.stderr.flush()
    os._exit(${LAUNCHER_EXIT_CODE})
def check(result):
    if result < 0:
        err = ctypes.get_errno()
        fail("%s (errno %d)" % (os.strerror(err), err))
    return result
namespaces = {}
def idmap_userns(owner_uid, owner_gid):
    key = (owner_uid, owner_gid)
    if key in namespaces: return namespaces[key]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if libc.unshare(CLONE_NEWUSER) != 0: os._exit(1)
        os.write(w, b"x")
        time.sleep(60)
        os._exit(0)
    os.close(w)
    ok = os.read(r, 1)
    os.close(r)
    try:
        if ok != b"x": fail("could not create a user namespace for the id mapping")
        with open("/proc/%d/uid_map" % pid, "w") as f: f.write("%d %d 1\n" % (owner_uid, spec["uid"]))
        with open("/proc/%d/setgroups" % pid, "w") as f: f.write("deny")
        with open("/proc/%d/gid_map" % pid, "w") as f: f.write("%d %d 1\n" % (owner_gid, spec["gid"]))
        fd = os.open("/proc/%d/ns/user" % pid, os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    namespaces[key] = fd
    return fd
try:
    trees = []
    for m in spec["mounts"]:
        step = "idmap fd %d" % m["fd"]
        tree = check(libc.syscall(OPEN_TREE, m["fd"], b"", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH))
        flags = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (MOUNT_ATTR_RDONLY if m["readonly"] else 0)
        attr = MountAttr(flags, 0, 0, idmap_userns(m["ownerUid"], m["ownerGid"]))
        check(libc.syscall(MOUNT_SETATTR, tree, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))))
        trees.append((m["fd"], tree))
    step = "private mount namespace"
    check(libc.unshare(CLONE_NEWNS))
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))
    base = spec["attachDir"]
    check(libc.mount(b"msbv-idmap", base.encode(), b"tmpfs", 2 | 4 | 8, b"mode=0755,size=64k"))
    for index, (fd, tree) in enumerate(trees):
        step = "attach fd %d" % fd
        target = "%s/%d" % (base, index)
        os.mkdir(target, 0o755)
        check(libc.syscall(MOVE_MOUNT, tree, b"", -100, target.encode(), MOVE_MOUNT_F_EMPTY_PATH))
        attached = os.open(target, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        os.dup2(attached, fd, inheritable=True)
        os.close(attached)
        os.close(tree)
    step = "cgroups"
    for procs in spec["cgroupProcs"]:
        with open(procs, "w") as f: f.write("0\n")
    step = "rlimits"
    import resource
    for name, value in spec["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    step = "drop privileges"
    os.setgroups([])
    os.setresgid(spec["gid"], spec["gid"], spec["gid"])
    os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    if os.getresuid() != (spec["uid"],) * 3 or os.getresgid() != (spec["gid"],) * 3 or os.getgroups(): fail("ids did not change")
    step = "close descriptors"
    keep = sorted(set(spec["keep"]))
    last = 3
    for fd in keep:
        if fd > last: os.closerange(last, fd)
        os.set_inheritable(fd, True)
        last = fd + 1
    os.closerange(last, 1 << 20)
    step = "exec bubblewrap"
    os.execve(spec["bwrap"], [spec["bwrap"]] + spec["args"], {})
except SystemExit:
    raise
except BaseException as error:
    fail(repr(error))
`;

// The Python both root helpers start with (containment/launcher-script.ts before a cold start,
// pool/attach-script.ts when a pooled sandbox is claimed): the new mount API through ctypes and the
// one rule for how a host folder becomes an idmapped, nosuid, nodev tree owned by the sandbox.
// `prefix` names the helper in its failure line, `<prefix>: <step>: <error>`; both exit with
// LAUNCHER_EXIT_CODE so the server reports them the same way.

export const LAUNCHER_EXIT_CODE = 121;

export function mountApiPrelude(prefix: string): string {
  return String.raw`
import ctypes, json, os, sys
spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
# The new mount API has the same numbers on every architecture (x86_64 and aarch64 included).
OPEN_TREE, MOVE_MOUNT, PIDFD_OPEN, MOUNT_SETATTR = 428, 429, 434, 442
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWUSER = 0x00020000, 0x04000000, 0x10000000
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_EMPTY_PATH = 1, 0o2000000, 0x1000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_IDMAP = 1, 2, 4, 0x100000
MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH = 4, 0x40
class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]
step = "start"
def fail(message):
    sys.stderr.write("${prefix}: %s: %s\n" % (step, message))
    sys.stderr.flush()
    os._exit(${LAUNCHER_EXIT_CODE})
def check(result):
    if result < 0:
        err = ctypes.get_errno()
        fail("%s (errno %d)" % (os.strerror(err), err))
    return result
namespaces = {}
# The holder of a throw-away user namespace: spawned (vfork + exec, no copy of this process's memory:
# a fork of the helper cost 7-10 ms of page-table copies and copy-on-write faults on a busy machine,
# this 4-5 ms), it unshares, reports in and waits on its stdin. Its stdin is a pipe only this helper
# writes to: if the helper dies at any point (it dies with the dev server), the holder reads end of
# file and exits, never sleeping on as an orphan.
HOLDER = ["/usr/bin/unshare", "--user", "--", "/bin/sh", "-c", "echo x; read _"]
def idmap_userns(owner_uid, owner_gid):
    key = (owner_uid, owner_gid, spec["uid"], spec["gid"])
    if key in namespaces: return namespaces[key]
    report_r, report_w = os.pipe()
    hold_r, hold_w = os.pipe()
    try:
        pid = os.posix_spawn(HOLDER[0], HOLDER, {}, file_actions=[(os.POSIX_SPAWN_DUP2, hold_r, 0), (os.POSIX_SPAWN_DUP2, report_w, 1)])
    finally:
        os.close(hold_r)
        os.close(report_w)
    try:
        ok = os.read(report_r, 1)
        if ok != b"x": fail("could not create a user namespace for the id mapping")
        with open("/proc/%d/uid_map" % pid, "w") as f: f.write("%d %d 1\n" % (owner_uid, spec["uid"]))
        with open("/proc/%d/setgroups" % pid, "w") as f: f.write("deny")
        with open("/proc/%d/gid_map" % pid, "w") as f: f.write("%d %d 1\n" % (owner_gid, spec["gid"]))
        fd = os.open("/proc/%d/ns/user" % pid, os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(report_r)
        os.close(hold_w)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    namespaces[key] = fd
    return fd
def idmapped_tree(m):
    # A detached copy of the folder behind descriptor m["fd"] (opened by the server, never a path),
    # its owner shown as the sandbox's uid; must run in the host's mount namespace.
    global step
    step = "idmap fd %d" % m["fd"]
    tree = check(libc.syscall(OPEN_TREE, m["fd"], b"", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH))
    flags = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (MOUNT_ATTR_RDONLY if m["readonly"] else 0)
    attr = MountAttr(flags, 0, 0, idmap_userns(m["ownerUid"], m["ownerGid"]))
    check(libc.syscall(MOUNT_SETATTR, tree, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))))
    return tree
`;
}

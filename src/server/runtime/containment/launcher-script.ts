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
import { mountApiPrelude } from "./mount-api-python.js";

export { LAUNCHER_EXIT_CODE } from "./mount-api-python.js";

export const LAUNCHER_SCRIPT = String.raw`${mountApiPrelude("msbv-launcher")}
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
try:
    trees = []
    for m in spec["mounts"]:
        trees.append((m["fd"], idmapped_tree(m)))
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
    # A pooled launch runs in the background at the lowest priority (the attach helper restores it).
    if spec.get("nice"): os.setpriority(os.PRIO_PROCESS, 0, spec["nice"])
    step = "drop privileges"
    os.setgroups([])
    os.setresgid(spec["gid"], spec["gid"], spec["gid"])
    os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    if os.getresuid() != (spec["uid"],) * 3 or os.getresgid() != (spec["gid"],) * 3 or os.getgroups(): fail("ids did not change")
    step = "die with the server"
    # bwrap's --die-with-parent only starts once bwrap runs; a server that died while this launcher
    # was still setting up would leave an orphan sandbox. The setting survives exec (bwrap is not
    # set-id) but not the uid change above, hence here; then make sure the server is still there.
    check(libc.prctl(1, 9, 0, 0, 0))  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != spec["parentPid"]: fail("the dev server is gone")
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

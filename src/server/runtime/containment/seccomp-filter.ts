import { endianness } from "node:os";
import { DevServerError } from "../../../errors/index.js";

// A classic-BPF seccomp program (what `bwrap --seccomp FD` loads) that stops sandboxed code from
// creating set-id files and from the syscalls that would bypass that check. Why a filter and not
// a scan: a set-id file in a volume is dangerous the moment it exists (a host user can run it
// before any scan), and through an idmapped mount such a file is owned by the folder's owner,
// possibly root. Why these syscalls (see docs/security.md, "Set-id bits"):
// - chmod family and the create paths carry the mode in a register: EPERM when it has S_ISUID or
//   S_ISGID. The create paths are checked whatever the flags (a mode without O_CREAT is ignored
//   by the kernel, so refusing it costs nothing real).
// - openat2 and clone3 pass their mode/flags behind a pointer a filter cannot read: ENOSYS, so
//   libc falls back to openat/clone, which are checked.
// - io_uring can open and chmod without these syscalls: ENOSYS.
// - A user namespace inside the sandbox would give back CAP_SETFCAP/CAP_FSETID over the
//   sandbox's own files (file capabilities are as good as setuid): clone/unshare with
//   CLONE_NEWUSER are refused (bwrap's --disable-userns too).
// - keyrings are not namespaced: keyctl/add_key/request_key are ENOSYS.
// Foreign architectures (i386 via int 0x80, x32) have other syscall numbers and are refused.

const SET_ID_BITS = 0o6000;
const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;

const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argOffset = (index: number): number => 16 + 8 * index + (endianness() === "LE" ? 0 : 4);

type Rule = { nr: number; arg: number; bits: number } | { nr: number; errno: number };

interface ArchTable {
  audit: number;
  /** x86_64: syscall numbers with this bit set are the x32 ABI. */
  x32Bit?: number;
  rules: Rule[];
}

const mode = (nr: number, arg: number): Rule => ({ nr, arg, bits: SET_ID_BITS });
const newUser = (nr: number): Rule => ({ nr, arg: 0, bits: CLONE_NEWUSER });
const deny = (nr: number, errno = ENOSYS): Rule => ({ nr, errno });

const TABLES: Record<string, ArchTable> = {
  x64: {
    audit: 0xc000003e,
    x32Bit: 0x40000000,
    rules: [
      mode(90, 1), // chmod
      mode(91, 1), // fchmod
      mode(268, 2), // fchmodat
      mode(452, 2), // fchmodat2
      mode(2, 2), // open
      mode(257, 3), // openat
      mode(85, 1), // creat
      mode(83, 1), // mkdir
      mode(258, 2), // mkdirat
      mode(133, 1), // mknod
      mode(259, 2), // mknodat
      deny(437), // openat2
      deny(425), // io_uring_setup
      deny(426), // io_uring_enter
      deny(427), // io_uring_register
      deny(435), // clone3
      newUser(56), // clone
      newUser(272), // unshare
      deny(250), // keyctl
      deny(248), // add_key
      deny(249), // request_key
    ],
  },
  arm64: {
    audit: 0xc00000b7,
    rules: [
      mode(52, 1), // fchmod
      mode(53, 2), // fchmodat
      mode(452, 2), // fchmodat2
      mode(56, 3), // openat
      mode(34, 2), // mkdirat
      mode(33, 2), // mknodat
      deny(437), // openat2
      deny(425), // io_uring_setup
      deny(426), // io_uring_enter
      deny(427), // io_uring_register
      deny(435), // clone3
      newUser(220), // clone
      newUser(97), // unshare
      deny(219), // keyctl
      deny(217), // add_key
      deny(218), // request_key
    ],
  },
};

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const insn = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });

/** The filter's instructions for `arch` (Node's `process.arch` names). */
export function seccompInstructions(arch: string = process.arch): Insn[] {
  const table = TABLES[arch];
  if (!table) {
    throw new DevServerError(`Cannot start sandboxes on this ${arch} host: the set-id seccomp filter is only built for x64 and arm64.`, {
      hint: "run the dev server on an x86_64 or aarch64 Linux host",
      details: { arch },
    });
  }
  const program: Insn[] = [
    insn(BPF_LD_W_ABS, OFFSET_ARCH),
    insn(BPF_JEQ_K, table.audit, 1, 0),
    insn(BPF_RET_K, RET_ERRNO | ENOSYS),
    insn(BPF_LD_W_ABS, OFFSET_NR),
  ];
  if (table.x32Bit !== undefined) program.push(insn(BPF_JGE_K, table.x32Bit, 0, 1), insn(BPF_RET_K, RET_ERRNO | ENOSYS));
  for (const rule of table.rules) {
    if ("errno" in rule) {
      program.push(insn(BPF_JEQ_K, rule.nr, 0, 1), insn(BPF_RET_K, RET_ERRNO | rule.errno));
    } else {
      // Every path of this block returns, so the clobbered accumulator never reaches the next rule.
      program.push(
        insn(BPF_JEQ_K, rule.nr, 0, 4),
        insn(BPF_LD_W_ABS, argOffset(rule.arg)),
        insn(BPF_JSET_K, rule.bits, 0, 1),
        insn(BPF_RET_K, RET_ERRNO | EPERM),
        insn(BPF_RET_K, RET_ALLOW),
      );
    }
  }
  program.push(insn(BPF_RET_K, RET_ALLOW));
  return program;
}

/** The filter as the bytes of a `struct sock_filter[]` in host byte order, ready for `bwrap --seccomp`. */
export function seccompProgram(arch: string = process.arch): Buffer {
  const program = seccompInstructions(arch);
  const bytes = Buffer.alloc(program.length * 8);
  const le = endianness() === "LE";
  program.forEach((ins, index) => {
    const at = index * 8;
    if (le) bytes.writeUInt16LE(ins.code, at);
    else bytes.writeUInt16BE(ins.code, at);
    bytes.writeUInt8(ins.jt, at + 2);
    bytes.writeUInt8(ins.jf, at + 3);
    if (le) bytes.writeUInt32LE(ins.k >>> 0, at + 4);
    else bytes.writeUInt32BE(ins.k >>> 0, at + 4);
  });
  return bytes;
}

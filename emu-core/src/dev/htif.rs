//! HTIF, the Berkeley host-target interface as the riscv-tests use it: a guest ends a test by
//! storing to the 64-bit word at the ELF symbol `tohost`, and asks the host for system calls
//! through the same word (riscv-tests `env/p/riscv_test.h` and `benchmarks/common/syscalls.c`;
//! QEMU hw/char/riscv_htif.c and Spike behave the same way).
//!
//! `tohost` lives in RAM, so guest stores to it take the hart's RAM fast path with no device
//! hook. HTIF is therefore *polled*: the machine calls [`Htif::poll`] after each run-loop round,
//! which reads the word and acts on it. A `tohost` value is decoded as
//! `device[63:56] | command[55:48] | payload[47:0]`:
//!
//! - device 0, command 0, payload odd: the test ended. `1` is pass (exit code 0);
//!   `(n << 1) | 1` is "test case `n` failed" (exit code `n` truncated to 8 bits, never 0).
//! - device 0, command 0, payload even and non-zero: the physical address of a `magic_mem`
//!   block of eight u64 (`[syscall number, arg0, arg1, arg2, …]`). `SYS_write` (64) to fd 1 or 2
//!   copies bytes to the console; `SYS_exit` (93) powers off with the code `arg0`. The reply is
//!   the result in `magic_mem[0]`, then `tohost = 0` and `fromhost = 1`.
//! - device 1 (console), command 1: write the byte `payload & 0xff` to the console; the reply is
//!   `fromhost = (1 << 56) | (1 << 48)`.
//!
//! Anything else is answered like an unknown request (`tohost` cleared) so that a guest never
//! hangs the host.

use crate::bus::Ram;
use crate::console::Console;

/// The HTIF device number of the system-call proxy (and of test exit codes).
const DEV_SYSCALL: u64 = 0;
/// The HTIF device number of the character console.
const DEV_CONSOLE: u64 = 1;
/// Console command: write one character.
const CONSOLE_CMD_PUTC: u64 = 1;

/// riscv-pk/newlib system-call number of `write(fd, buf, len)`.
pub const SYS_WRITE: u64 = 64;
/// riscv-pk/newlib system-call number of `exit(code)`.
pub const SYS_EXIT: u64 = 93;

/// `-EFAULT`: a system-call buffer lies outside RAM.
const EFAULT: i64 = 14;
/// `-EBADF`: `SYS_write` to a file descriptor other than 1 or 2.
const EBADF: i64 = 9;
/// `-ENOSYS`: a system call the proxy does not implement.
const ENOSYS: i64 = 38;

/// The largest `SYS_write` the proxy copies in one call, in bytes (longer writes are short
/// writes, as a POSIX `write` may be).
const MAX_WRITE: u64 = 1 << 20;

/// How an HTIF session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtifExit {
    /// The guest's exit code: 0 for pass, otherwise 1..=255 (the failing test number or the
    /// `SYS_exit` status, truncated to 8 bits and never 0 for a failure).
    pub code: u32,
}

/// The HTIF host side for one loaded ELF: the physical addresses of `tohost` and `fromhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Htif {
    tohost: u64,
    fromhost: Option<u64>,
}

impl Htif {
    /// An HTIF watching `tohost` (and replying through `fromhost`, if the guest has one), both
    /// physical addresses of 8-byte words.
    pub fn new(tohost: u64, fromhost: Option<u64>) -> Htif {
        Htif { tohost, fromhost }
    }

    /// The HTIF of an ELF image: `Some` when its symbol table defines `tohost` (and optionally
    /// `fromhost`), `None` for an ELF without them or bytes that are not an ELF.
    pub fn from_elf(bytes: &[u8]) -> Option<Htif> {
        let elf = goblin::elf::Elf::parse(bytes).ok()?;
        let find = |name: &str| {
            elf.syms
                .iter()
                .find(|sym| sym.st_shndx != 0 && elf.strtab.get_at(sym.st_name) == Some(name))
                .map(|sym| sym.st_value)
        };
        Some(Htif::new(find("tohost")?, find("fromhost")))
    }

    /// Physical address of `tohost`.
    pub fn tohost(&self) -> u64 {
        self.tohost
    }

    /// Physical address of `fromhost`, if the guest has one.
    pub fn fromhost(&self) -> Option<u64> {
        self.fromhost
    }

    /// Look at `tohost` and serve what the guest asked for: `Some(exit)` when the guest ended
    /// (test result or `SYS_exit`), `None` otherwise (nothing pending, or a request served).
    /// Reads and writes RAM only; a `tohost` or `magic_mem` outside RAM is ignored.
    pub fn poll(&mut self, ram: &mut Ram, console: &mut dyn Console) -> Option<HtifExit> {
        let value = ram.read(self.tohost, 8).ok()?;
        if value == 0 {
            return None;
        }
        let device = value >> 56;
        let command = (value >> 48) & 0xff;
        let payload = value & ((1 << 48) - 1);
        match (device, command) {
            (DEV_SYSCALL, 0) if payload & 1 == 1 => {
                return Some(HtifExit {
                    code: exit_code(payload >> 1),
                })
            }
            (DEV_SYSCALL, 0) => {
                let mut magic = [0u64; 4];
                for (i, word) in magic.iter_mut().enumerate() {
                    match ram.read(payload + 8 * i as u64, 8) {
                        Ok(v) => *word = v,
                        Err(_) => {
                            // No block to answer in: drop the request so the guest is not
                            // served garbage; it waits on fromhost forever (its own bug).
                            let _ = ram.write(self.tohost, 8, 0);
                            return None;
                        }
                    }
                }
                let [number, arg0, arg1, arg2] = magic;
                let result = match number {
                    SYS_EXIT => {
                        return Some(HtifExit {
                            code: exit_code(arg0),
                        })
                    }
                    SYS_WRITE if arg0 == 1 || arg0 == 2 => {
                        let len = arg2.min(MAX_WRITE);
                        let mut buf = vec![0u8; len as usize];
                        match ram.read_bytes(arg1, &mut buf) {
                            Ok(()) => {
                                console.write(&buf);
                                len as i64
                            }
                            Err(_) => -EFAULT,
                        }
                    }
                    SYS_WRITE => -EBADF,
                    _ => -ENOSYS,
                };
                let _ = ram.write(payload, 8, result as u64);
                self.reply(ram, 1);
            }
            (DEV_CONSOLE, CONSOLE_CMD_PUTC) => {
                console.write(&[payload as u8]);
                self.reply(ram, (DEV_CONSOLE << 56) | (CONSOLE_CMD_PUTC << 48));
            }
            _ => {
                let _ = ram.write(self.tohost, 8, 0);
            }
        }
        None
    }

    /// Acknowledge a request: clear `tohost`, then post `response` in `fromhost`.
    fn reply(&self, ram: &mut Ram, response: u64) {
        let _ = ram.write(self.tohost, 8, 0);
        if let Some(fromhost) = self.fromhost {
            let _ = ram.write(fromhost, 8, response);
        }
    }
}

/// A guest exit status as a process exit code: 0 stays 0 (pass); anything else is truncated to
/// 8 bits, and a failure whose low 8 bits are 0 becomes 1 so that it never reads as a pass.
fn exit_code(status: u64) -> u32 {
    match (status, status & 0xff) {
        (0, _) => 0,
        (_, 0) => 1,
        (_, low) => low as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOHOST: u64 = 0x8000_1000;
    const FROMHOST: u64 = 0x8000_1040;
    const MAGIC: u64 = 0x8000_2000;

    #[derive(Default)]
    struct Captured(Vec<u8>);
    impl Console for Captured {
        fn read(&mut self) -> Option<u8> {
            None
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    fn setup() -> (Htif, Ram, Captured) {
        (
            Htif::new(TOHOST, Some(FROMHOST)),
            Ram::new(0x8000_0000, 0x4000),
            Captured::default(),
        )
    }

    #[test]
    fn zero_tohost_is_nothing_pending() {
        let (mut htif, mut ram, mut con) = setup();
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(FROMHOST, 8).unwrap(), 0);
    }

    #[test]
    fn odd_values_end_the_run_with_exit_codes() {
        for (value, code) in [
            (1u64, 0u32),
            (3, 1),
            ((5 << 1) | 1, 5),
            ((255 << 1) | 1, 255),
            ((256 << 1) | 1, 1),
            ((0x1_02 << 1) | 1, 2),
        ] {
            let (mut htif, mut ram, mut con) = setup();
            // riscv-tests write the low word then the high word.
            ram.write(TOHOST, 4, value).unwrap();
            assert_eq!(
                htif.poll(&mut ram, &mut con),
                Some(HtifExit { code }),
                "tohost {value:#x}"
            );
        }
    }

    fn syscall(ram: &mut Ram, number: u64, args: [u64; 3]) {
        ram.write(MAGIC, 8, number).unwrap();
        for (i, a) in args.iter().enumerate() {
            ram.write(MAGIC + 8 * (i as u64 + 1), 8, *a).unwrap();
        }
        ram.write(TOHOST, 8, MAGIC).unwrap();
    }

    #[test]
    fn sys_write_reaches_the_console_and_replies() {
        let (mut htif, mut ram, mut con) = setup();
        ram.write_bytes(0x8000_3000, b"Dhrystones\n").unwrap();
        syscall(&mut ram, SYS_WRITE, [1, 0x8000_3000, 11]);
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(con.0, b"Dhrystones\n");
        assert_eq!(ram.read(MAGIC, 8).unwrap(), 11, "result in magic_mem[0]");
        assert_eq!(ram.read(TOHOST, 8).unwrap(), 0, "tohost cleared");
        assert_eq!(ram.read(FROMHOST, 8).unwrap(), 1, "fromhost set");
        // The request is served once.
        ram.write(FROMHOST, 8, 0).unwrap();
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(con.0.len(), 11);
        assert_eq!(ram.read(FROMHOST, 8).unwrap(), 0);
    }

    #[test]
    fn sys_write_errors_are_negative_results() {
        let (mut htif, mut ram, mut con) = setup();
        syscall(&mut ram, SYS_WRITE, [1, 0x1000, 4]);
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(MAGIC, 8).unwrap() as i64, -EFAULT);
        syscall(&mut ram, SYS_WRITE, [7, 0x8000_3000, 4]);
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(MAGIC, 8).unwrap() as i64, -EBADF);
        syscall(&mut ram, 1234, [0, 0, 0]);
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(MAGIC, 8).unwrap() as i64, -ENOSYS);
        assert!(con.0.is_empty());
        assert_eq!(ram.read(FROMHOST, 8).unwrap(), 1);
    }

    #[test]
    fn sys_exit_powers_off_with_its_code() {
        let (mut htif, mut ram, mut con) = setup();
        syscall(&mut ram, SYS_EXIT, [0, 0, 0]);
        assert_eq!(htif.poll(&mut ram, &mut con), Some(HtifExit { code: 0 }));
        syscall(&mut ram, SYS_EXIT, [42, 0, 0]);
        assert_eq!(htif.poll(&mut ram, &mut con), Some(HtifExit { code: 42 }));
    }

    #[test]
    fn console_putc_and_unknown_devices() {
        let (mut htif, mut ram, mut con) = setup();
        ram.write(TOHOST, 8, (1 << 56) | (1 << 48) | b'x' as u64)
            .unwrap();
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(con.0, b"x");
        assert_eq!(ram.read(FROMHOST, 8).unwrap(), (1 << 56) | (1 << 48));
        ram.write(TOHOST, 8, 9 << 56).unwrap();
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(TOHOST, 8).unwrap(), 0);
    }

    #[test]
    fn magic_mem_or_tohost_outside_ram_never_panics() {
        let (mut htif, mut ram, mut con) = setup();
        ram.write(TOHOST, 8, 0x10).unwrap();
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        assert_eq!(ram.read(TOHOST, 8).unwrap(), 0);
        ram.write(TOHOST, 8, 0x8000_3ff8).unwrap(); // block runs off the end of RAM
        assert_eq!(htif.poll(&mut ram, &mut con), None);
        let mut far = Htif::new(0x1_0000_0000, None);
        assert_eq!(far.poll(&mut ram, &mut con), None);
    }

    /// Assemble and link `source` with `.tohost` at 0x8000_1000 (riscv-tests' layout).
    fn build_elf(source: &str) -> Vec<u8> {
        let run = |cmd: &mut std::process::Command| {
            let out = cmd.output().unwrap_or_else(|e| {
                panic!("{cmd:?}: {e}; install the RISC-V binutils: apt-get install binutils-riscv64-unknown-elf")
            });
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let (src, obj, elf) = (
            dir.path().join("t.s"),
            dir.path().join("t.o"),
            dir.path().join("t.elf"),
        );
        std::fs::write(&src, source).unwrap();
        run(std::process::Command::new("riscv64-unknown-elf-as")
            .arg("-o")
            .arg(&obj)
            .arg(&src));
        run(std::process::Command::new("riscv64-unknown-elf-ld")
            .args([
                "-Ttext=0x80000000",
                "--section-start=.tohost=0x80001000",
                "-e",
                "_start",
                "-o",
            ])
            .arg(&elf)
            .arg(&obj));
        std::fs::read(&elf).unwrap()
    }

    const TOHOST_SECTION: &str = ".section .tohost,\"aw\",@progbits\n.align 6\n.globl tohost\n\
        tohost: .dword 0\n.align 6\n.globl fromhost\nfromhost: .dword 0\n";

    #[test]
    fn from_elf_finds_tohost_and_fromhost() {
        let bytes = build_elf(&format!(
            ".globl _start\n_start: j _start\n{TOHOST_SECTION}"
        ));
        let htif = Htif::from_elf(&bytes).expect("tohost found");
        assert_eq!(htif.tohost(), 0x8000_1000);
        assert_eq!(htif.fromhost(), Some(0x8000_1040));
        assert_eq!(Htif::from_elf(b"not an elf"), None);
        let plain = build_elf(".globl _start\n_start: j _start\n");
        assert_eq!(Htif::from_elf(&plain), None);
    }

    /// A guest that prints through SYS_write (waiting on fromhost), then fails test case 5 the
    /// riscv-tests way; on the whole machine.
    #[test]
    fn machine_serves_htif_and_stops_on_tohost() {
        use crate::console::MemoryConsole;
        use crate::machine::{MachineConfig, RunLimits};
        let source = format!(
            ".option norelax\n.globl _start\n_start:\n\
             la t0, magic\n li t1, 64\n sd t1, 0(t0)\n li t1, 1\n sd t1, 8(t0)\n\
             la t1, msg\n sd t1, 16(t0)\n li t1, 6\n sd t1, 24(t0)\n\
             la t2, tohost\n sd t0, 0(t2)\n la t3, fromhost\n\
             1: ld t4, 0(t3)\n beqz t4, 1b\n sd zero, 0(t3)\n\
             ld a0, 0(t0)\n slli a0, a0, 1\n addi a0, a0, -1\n\
             2: sw a0, 0(t2)\n sw zero, 4(t2)\n j 2b\n\
             .data\n.align 6\nmagic: .space 64\nmsg: .ascii \"hello\\n\"\n{TOHOST_SECTION}"
        );
        // a0 = (6 << 1) - 1 = 11 = (5 << 1) | 1: test case 5 failed.
        let elf = build_elf(&source);
        for (htif, expect) in [(true, Some(5)), (false, None)] {
            let mut m = crate::Machine::new(MachineConfig {
                htif,
                ..MachineConfig::default()
            })
            .unwrap();
            m.load_kernel(&elf, "htif.elf").unwrap();
            let console = MemoryConsole::new();
            m.set_console(Box::new(console.clone()));
            let exit = m.run_until(
                &RunLimits {
                    max_insns: Some(1_000_000),
                    timeout: None,
                },
                &mut |_| false,
            );
            match expect {
                Some(code) => {
                    assert_eq!(exit, crate::ExitReason::PowerOff { code });
                    assert_eq!(console.output_string(), "hello\n");
                }
                None => {
                    assert_eq!(exit, crate::ExitReason::InstructionLimit, "--htif off");
                    assert_eq!(console.output_string(), "");
                }
            }
        }
    }
}

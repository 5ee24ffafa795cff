//! The console's Ctrl-A escape keys, with QEMU's conventions: `Ctrl-A x` quits, `Ctrl-A h`
//! prints help, `Ctrl-A a` (or `Ctrl-A Ctrl-A`) sends a literal Ctrl-A; any other key after
//! Ctrl-A is dropped. Every other byte goes to the guest unchanged.

/// The Ctrl-A byte (0x01).
pub const CTRL_A: u8 = 0x01;

/// The help `Ctrl-A h` prints (on a line of its own; the terminal turns `\n` into CR LF).
pub const HELP: &str =
    "\nC-a h    print this help\nC-a x    exit emu-cli\nC-a a    send C-a to the guest\n";

/// What one keyboard byte asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Give this byte to the guest's UART.
    Send(u8),
    /// Nothing (Ctrl-A pressed, waiting for the next key; or an unknown Ctrl-A command).
    Pending,
    /// Quit the emulator.
    Quit,
    /// Print [`HELP`].
    Help,
}

/// The state machine: feed it keyboard bytes in order.
#[derive(Debug, Default, Clone)]
pub struct CtrlADecoder {
    after_ctrl_a: bool,
}

impl CtrlADecoder {
    /// A decoder in the normal (pass-through) state.
    pub fn new() -> CtrlADecoder {
        CtrlADecoder::default()
    }

    /// Decodes the next byte typed.
    pub fn feed(&mut self, byte: u8) -> KeyAction {
        if !self.after_ctrl_a {
            if byte == CTRL_A {
                self.after_ctrl_a = true;
                return KeyAction::Pending;
            }
            return KeyAction::Send(byte);
        }
        self.after_ctrl_a = false;
        match byte {
            b'x' | b'X' => KeyAction::Quit,
            b'h' | b'H' | b'?' => KeyAction::Help,
            b'a' | b'A' | CTRL_A => KeyAction::Send(CTRL_A),
            _ => KeyAction::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Vec<KeyAction> {
        let mut d = CtrlADecoder::new();
        bytes.iter().map(|&b| d.feed(b)).collect()
    }

    #[test]
    fn ordinary_bytes_pass_through() {
        let all: Vec<u8> = (0..=255u8).filter(|&b| b != CTRL_A).collect();
        let actions = run(&all);
        assert_eq!(
            actions,
            all.iter().map(|&b| KeyAction::Send(b)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn ctrl_a_x_quits() {
        assert_eq!(
            run(b"l\x01x"),
            [KeyAction::Send(b'l'), KeyAction::Pending, KeyAction::Quit]
        );
    }

    #[test]
    fn ctrl_a_h_prints_help_then_keys_pass_again() {
        assert_eq!(
            run(b"\x01hx"),
            [KeyAction::Pending, KeyAction::Help, KeyAction::Send(b'x')]
        );
    }

    #[test]
    fn ctrl_a_a_sends_one_literal_ctrl_a() {
        assert_eq!(
            run(b"\x01a\x01\x01"),
            [
                KeyAction::Pending,
                KeyAction::Send(CTRL_A),
                KeyAction::Pending,
                KeyAction::Send(CTRL_A)
            ]
        );
    }

    #[test]
    fn unknown_command_is_dropped() {
        assert_eq!(
            run(b"\x01zq"),
            [
                KeyAction::Pending,
                KeyAction::Pending,
                KeyAction::Send(b'q')
            ]
        );
    }
}

//! sh: the xv6 shell. Grammar (xv6 user/sh.c):
//!
//! ```text
//! line  := pipe { '&' } [ ';' line ]
//! pipe  := exec [ '|' pipe ]
//! exec  := block | redirs { word redirs }
//! block := '(' line ')' redirs
//! redirs:= { ('<' | '>' | '>>') word }
//! ```
//!
//! `cd DIR` is built in. Each command line is parsed and run in a forked child.
#![no_std]
#![no_main]
use ulib::fmt::Bytes;
use ulib::*;
entry!(main);

const MAXARGS: usize = 10;
const WHITESPACE: &[u8] = b" \t\r\n\x0b";
const SYMBOLS: &[u8] = b"<|>&;()";

/// A parsed command.
enum Cmd {
    Exec(Vec<&'static [u8]>),
    Redir {
        cmd: Box<Cmd>,
        file: &'static [u8],
        mode: i32,
        fd: i32,
    },
    Pipe(Box<Cmd>, Box<Cmd>),
    List(Box<Cmd>, Box<Cmd>),
    Back(Box<Cmd>),
}

fn panic_sh(msg: &str) -> ! {
    fprintf!(2, "{}\n", msg);
    exit(1)
}

fn fork1() -> i32 {
    let pid = fork();
    if pid == -1 {
        panic_sh("fork");
    }
    pid
}

/// Executes `cmd`; never returns.
fn runcmd(cmd: &Cmd) -> ! {
    match cmd {
        Cmd::Exec(argv) => {
            if argv.is_empty() {
                exit(1);
            }
            exec(argv[0], argv);
            fprintf!(2, "exec {} failed\n", Bytes(argv[0]));
        }
        Cmd::Redir {
            cmd,
            file,
            mode,
            fd,
        } => {
            close(*fd);
            if open(file, *mode) < 0 {
                fprintf!(2, "open {} failed\n", Bytes(file));
                exit(1);
            }
            runcmd(cmd);
        }
        Cmd::List(left, right) => {
            if fork1() == 0 {
                runcmd(left);
            }
            wait0();
            runcmd(right);
        }
        Cmd::Pipe(left, right) => {
            let mut p = [0i32; 2];
            if pipe(&mut p) < 0 {
                panic_sh("pipe");
            }
            if fork1() == 0 {
                close(1);
                dup(p[1]);
                close(p[0]);
                close(p[1]);
                runcmd(left);
            }
            if fork1() == 0 {
                close(0);
                dup(p[0]);
                close(p[0]);
                close(p[1]);
                runcmd(right);
            }
            close(p[0]);
            close(p[1]);
            wait0();
            wait0();
        }
        Cmd::Back(c) => {
            if fork1() == 0 {
                runcmd(c);
            }
        }
    }
    exit(0)
}

/// Tokenizer and recursive-descent parser over one command line.
struct Parser {
    s: &'static [u8],
    pos: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && WHITESPACE.contains(&self.s[self.pos]) {
            self.pos += 1;
        }
    }

    /// Skips whitespace; whether the next character is one of `toks`.
    fn peek(&mut self, toks: &[u8]) -> bool {
        self.skip_ws();
        self.pos < self.s.len() && toks.contains(&self.s[self.pos])
    }

    /// The next token: 0 at the end, a symbol (`>>` is `+`), or `a` with the word.
    fn gettoken(&mut self) -> (u8, &'static [u8]) {
        self.skip_ws();
        let start = self.pos;
        let tok = match self.s.get(self.pos) {
            None => 0,
            Some(&c @ (b'|' | b'(' | b')' | b';' | b'&' | b'<')) => {
                self.pos += 1;
                c
            }
            Some(b'>') => {
                self.pos += 1;
                if self.s.get(self.pos) == Some(&b'>') {
                    self.pos += 1;
                    b'+'
                } else {
                    b'>'
                }
            }
            Some(_) => {
                while self.pos < self.s.len()
                    && !WHITESPACE.contains(&self.s[self.pos])
                    && !SYMBOLS.contains(&self.s[self.pos])
                {
                    self.pos += 1;
                }
                b'a'
            }
        };
        let word = &self.s[start..self.pos];
        self.skip_ws();
        (tok, word)
    }

    fn parseline(&mut self) -> Cmd {
        let mut cmd = self.parsepipe();
        while self.peek(b"&") {
            self.gettoken();
            cmd = Cmd::Back(Box::new(cmd));
        }
        if self.peek(b";") {
            self.gettoken();
            cmd = Cmd::List(Box::new(cmd), Box::new(self.parseline()));
        }
        cmd
    }

    fn parsepipe(&mut self) -> Cmd {
        let cmd = self.parseexec();
        if self.peek(b"|") {
            self.gettoken();
            return Cmd::Pipe(Box::new(cmd), Box::new(self.parsepipe()));
        }
        cmd
    }

    /// Collects redirections; they wrap the command in the order written.
    fn parseredirs(&mut self, redirs: &mut Vec<(u8, &'static [u8])>) {
        while self.peek(b"<>") {
            let (tok, _) = self.gettoken();
            let (t, file) = self.gettoken();
            if t != b'a' {
                panic_sh("missing file for redirection");
            }
            redirs.push((tok, file));
        }
    }

    fn wrap(mut cmd: Cmd, redirs: Vec<(u8, &'static [u8])>) -> Cmd {
        for (tok, file) in redirs {
            let (mode, fd) = match tok {
                b'<' => (O_RDONLY, 0),
                b'>' => (O_WRONLY | O_CREATE | O_TRUNC, 1),
                _ => (O_WRONLY | O_CREATE, 1), // '>>'
            };
            cmd = Cmd::Redir {
                cmd: Box::new(cmd),
                file,
                mode,
                fd,
            };
        }
        cmd
    }

    fn parseblock(&mut self) -> Cmd {
        self.gettoken(); // '('
        let cmd = self.parseline();
        if !self.peek(b")") {
            panic_sh("syntax - missing )");
        }
        self.gettoken();
        let mut redirs = Vec::new();
        self.parseredirs(&mut redirs);
        Self::wrap(cmd, redirs)
    }

    fn parseexec(&mut self) -> Cmd {
        if self.peek(b"(") {
            return self.parseblock();
        }
        let mut argv = Vec::new();
        let mut redirs = Vec::new();
        self.parseredirs(&mut redirs);
        while !self.peek(b"|)&;") {
            let (tok, word) = self.gettoken();
            if tok == 0 {
                break;
            }
            if tok != b'a' {
                panic_sh("syntax");
            }
            argv.push(word);
            if argv.len() >= MAXARGS {
                panic_sh("too many args");
            }
            self.parseredirs(&mut redirs);
        }
        Self::wrap(Cmd::Exec(argv), redirs)
    }
}

fn parsecmd(s: &'static [u8]) -> Cmd {
    let mut p = Parser { s, pos: 0 };
    let cmd = p.parseline();
    p.skip_ws();
    if p.pos != s.len() {
        fprintf!(2, "leftovers: {}\n", Bytes(&s[p.pos..]));
        panic_sh("syntax");
    }
    cmd
}

fn main(_args: Args) -> i32 {
    // Ensure that three file descriptors are open.
    loop {
        let fd = open("console", O_RDWR);
        if fd < 0 {
            break;
        }
        if fd >= 3 {
            close(fd);
            break;
        }
    }
    let mut buf = [0u8; 100];
    loop {
        fprintf!(2, "$ ");
        buf.fill(0);
        let n = gets(&mut buf[..99]);
        if n == 0 {
            break;
        }
        let line: &[u8] = &buf[..n];
        if line.starts_with(b"cd ") {
            // Chdir must be called by the parent, not the child.
            let dir = line[3..].strip_suffix(b"\n").unwrap_or(&line[3..]);
            if chdir(dir) < 0 {
                fprintf!(2, "cannot cd {}\n", Bytes(dir));
            }
            continue;
        }
        if fork1() == 0 {
            // The child keeps its command line for the rest of its life.
            let line: &'static [u8] = Vec::leak(line.to_vec());
            runcmd(&parsecmd(line));
        }
        wait0();
    }
    0
}

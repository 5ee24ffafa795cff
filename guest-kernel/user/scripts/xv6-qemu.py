#!/usr/bin/env python3
"""Local check: boot a kernel (default: stock xv6's, for comparison only) on QEMU with an fs.img
built by our mkfs from the `user` crate's programs, then type commands into sh.

usage: xv6-qemu.py [--kernel K] [--smp N] [--timeout S] [--img FS] 'cmd1' 'cmd2' ...
Each command is sent after the `$ ` prompt; output goes to stdout. Exit 0 when all commands ran.
"""
import argparse, os, select, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--kernel", default="/work/xv6/src/kernel/kernel")
ap.add_argument("--smp", default="3")
ap.add_argument("--timeout", type=float, default=120)
ap.add_argument("--img", default="/tmp/user-fs.img")
ap.add_argument("cmds", nargs="*")
a = ap.parse_args()

qemu = subprocess.Popen(
    ["qemu-system-riscv64", "-machine", "virt", "-bios", "none", "-kernel", a.kernel,
     "-m", "128M", "-smp", a.smp, "-nographic", "-global", "virtio-mmio.force-legacy=false",
     "-drive", f"file={a.img},if=none,format=raw,id=x0",
     "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

out = b""
def wait_for(pat, deadline):
    global out
    while pat not in out:
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([qemu.stdout], [], [], min(left, 1))
        if r:
            chunk = os.read(qemu.stdout.fileno(), 4096)
            if not chunk:
                return False
            sys.stdout.write(chunk.decode("latin1")); sys.stdout.flush()
            out += chunk
    return True

ok = True
deadline = time.time() + a.timeout
for c in a.cmds:
    if not wait_for(b"$ ", deadline):
        ok = False
        break
    out = out[out.index(b"$ ") + 2:]
    qemu.stdin.write(c.encode() + b"\n"); qemu.stdin.flush()
if ok:
    ok = wait_for(b"$ ", deadline)
qemu.kill()
print("\n[xv6-qemu: %s]" % ("done" if ok else "TIMEOUT"))
sys.exit(0 if ok else 1)

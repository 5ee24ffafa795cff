//! String helpers in the spirit of xv6's ulib.c, over byte slices.

/// Parses a leading decimal number (optional `-`), as xv6's `atoi` (no overflow check).
pub fn atoi(s: &[u8]) -> i32 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let mut n: i32 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add((c - b'0') as i32);
    }
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

/// Length of the NUL-terminated string at `s`.
///
/// # Safety
/// `s` must point to a NUL-terminated string.
pub unsafe fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller guarantees a terminating NUL.
    while unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}

/// The bytes of `s` up to (not including) the first NUL, or all of `s`.
pub fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Index of the first occurrence of `c` in `s`.
pub fn strchr(s: &[u8], c: u8) -> Option<usize> {
    s.iter().position(|&x| x == c)
}

/// Writes `n` in decimal into `buf`, returning the digits (helper for building file names).
pub fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

//! IEEE-754 binary32/binary64 arithmetic with RISC-V F/D semantics (Unprivileged ISA ch. 11–12):
//! rounding modes, `fflags`, canonical NaN, saturating conversions, fmin/fmax, fclass.

//! cowstat: prints the kernel's copy-on-write counters (rvcow system call SYS_COWSTAT, 22),
//! one `name value` pair per line.
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(_args: Args) -> i32 {
    let mut st = CowStat::default();
    if cowstat(&mut st) < 0 {
        fprintf!(2, "cowstat: the kernel does not support SYS_COWSTAT\n");
        return 1;
    }
    printf!(
        "cow_faults {}\npages_copied {}\npages_reused {}\npages_shared {}\nfree_pages {}\n",
        st.cow_faults,
        st.pages_copied,
        st.pages_reused,
        st.pages_shared,
        st.free_pages
    );
    0
}

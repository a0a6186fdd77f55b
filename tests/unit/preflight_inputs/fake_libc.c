// A stand-in libc.so.6 whose DT_VERDEF defines GLIBC_2.2.5 alone, for the
// preflight test of a program that needs a newer glibc symbol version.
int __libc_start_main(void) { return 0; }

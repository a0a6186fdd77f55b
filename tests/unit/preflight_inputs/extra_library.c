// The library that needs_extra links against, left out of a preflight root
// to check that the missing DT_NEEDED entry is reported.
int ward_preflight_extra(void) { return 7; }

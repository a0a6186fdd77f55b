// A program with a DT_NEEDED library of its own and a DT_RUNPATH of
// $ORIGIN/../lib, for the preflight tests.
int ward_preflight_extra(void);

int main(void) { return ward_preflight_extra() == 7 ? 0 : 1; }

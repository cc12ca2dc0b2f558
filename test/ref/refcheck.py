"""The pass/fail tally every differential check (test/ref/check_*.py) reports:
check() counts and prints each failure; summary() prints the
"N passed, N failed" line CI reads and returns the exit status (non-zero
on a failure, or when no check ran at all)."""

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def summary():
    """Exit status: 1 on any failure, and also when nothing was checked."""
    if not passed and not failed:
        print("FAIL: no check ran", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0

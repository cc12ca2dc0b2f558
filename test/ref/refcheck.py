"""The pass/fail tally every differential check (test/ref/check_*.py) reports:
check() counts and prints each failure; summary() prints the
"N passed, N failed" line CI reads and returns the exit status."""

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def summary():
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0

#!/usr/bin/env bash
# The test suite: the test files two at a time, those that boot real guests, a Ceph cluster or a
# network data plane first. They take minutes each; started last, they would leave one core idle
# while the other finishes them. Then the files that must run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
all=$(find test -name '*.test.ts' ! -name '*.serial.test.ts' | sort)
long=$(grep -lE 'scripts/guest/build\.sh|startGuestCloudOnCeph|startCeph\(|hostNamespace\(' $all || true)
rest=$(comm -23 <(echo "$all") <(echo "$long"))
node --import tsx --test --test-concurrency=2 --test-timeout=600000 $long $rest
node --import tsx --test --test-concurrency=1 --test-timeout=600000 $(find test -name '*.serial.test.ts' | sort)

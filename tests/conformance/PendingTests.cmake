# Pending tests: tests of features that a later milestone delivers, so they
# fail under ward today. They stay registered, so `ctest -L pending` runs
# them, and scripts/test leaves them out with `ctest -LE pending`. The
# conformance and integration suites include this file.
#
#   ward_pending_test(TEST_NAME REASON)
#
# adds the label `pending` to TEST_NAME, a test of the calling directory,
# and records REASON, the missing feature in one line, for tests/PENDING.md.
# When configuration ends, the recorded list is written to
# BUILD/tests/PENDING.md, and the test `pending_list` fails while
# tests/PENDING.md differs from it.
#
# `ctest -LE` takes a regular expression, so no other label may contain the
# word "pending".
include_guard(GLOBAL)

set_property(GLOBAL PROPERTY WARD_PENDING_LIST ${CMAKE_BINARY_DIR}/tests/PENDING.md)

function(ward_pending_test test_name reason)
  if(reason STREQUAL "" OR reason MATCHES "[;|\n]")
    message(FATAL_ERROR "ward_pending_test(${test_name}): the reason must be one non-empty line "
                        "without ';' or '|', got \"${reason}\"")
  endif()
  set_property(TEST ${test_name} APPEND PROPERTY LABELS pending)
  set_property(GLOBAL APPEND PROPERTY WARD_PENDING_TESTS "${test_name}|${reason}")
endfunction()

# Writes the pending tests, sorted by name, as tests/PENDING.md should read.
function(ward_write_pending_list)
  get_property(entries GLOBAL PROPERTY WARD_PENDING_TESTS)
  get_property(path GLOBAL PROPERTY WARD_PENDING_LIST)
  list(SORT entries)
  string(CONCAT text
         "# Pending tests\n"
         "\n"
         "These tests check features that a later milestone of ward delivers, so\n"
         "they fail under ward today. Their runs under ward carry the CTest label\n"
         "`pending`, which `scripts/test` leaves out (`ctest -LE pending`). The\n"
         "native run of every conformance program, pending ones included, still\n"
         "runs in CI, so the oracle stays checked. To run the pending tests:\n"
         "`ctest --test-dir build -L pending`.\n"
         "\n"
         "The list comes from the `ward_pending_test` calls in\n"
         "tests/conformance/CMakeLists.txt and tests/integration/CMakeLists.txt.\n"
         "Configuring the build writes it to `build/tests/PENDING.md`, and the\n"
         "test `pending_list` fails until this file is a copy of that one.\n"
         "\n")
  foreach(entry IN LISTS entries)
    string(FIND "${entry}" "|" separator)
    string(SUBSTRING "${entry}" 0 ${separator} name)
    math(EXPR reason_start "${separator} + 1")
    string(SUBSTRING "${entry}" ${reason_start} -1 reason)
    string(APPEND text "- `${name}`: ${reason}\n")
  endforeach()
  file(CONFIGURE OUTPUT ${path} CONTENT "${text}" @ONLY)
endfunction()

cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL ward_write_pending_list)

# usage: cmake -DSOURCE_DIR=... -DOUTPUT=.../git_commit.h [-DGIT_EXECUTABLE=...] -P git_commit.cmake
# Writes OUTPUT, a header defining R50_GIT_COMMIT: the source's commit ("1a2b3c4", "-dirty" appended
# when tracked files have changes; "unknown" outside a git checkout or without git). Run at every
# build, so the figure follows new commits and edits; the file is only rewritten when its text
# changes, so an unchanged commit recompiles nothing.
set(commit "unknown")
if(GIT_EXECUTABLE)
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short HEAD
                  WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE status OUTPUT_VARIABLE head
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(status EQUAL 0 AND NOT head STREQUAL "")
    set(commit "${head}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" status --porcelain --untracked-files=no
                    WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE status OUTPUT_VARIABLE changes
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(status EQUAL 0 AND NOT changes STREQUAL "")
      string(APPEND commit "-dirty")
    endif()
  endif()
endif()
set(text "// Made by bench/git_commit.cmake at build time.\n#define R50_GIT_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()

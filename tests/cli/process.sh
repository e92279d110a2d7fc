# Sourced by the tests beside it: waiting on a background process without hanging the test.

# ends_within SECONDS PID: whether PID has ended within SECONDS (polled every 0.1 s).
ends_within() {
  local seconds=$1 pid=$2
  for _ in $(seq $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null
}

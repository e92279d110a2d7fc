// defines: check_results_path, write_file_atomically, with_top_level_key
#pragma once

#include <string>

namespace r50 {

// Throws, before any work is done, when `path` (the --out file) could not be written at the end:
// its folder is missing or not writable (a probe file is created there and removed), or the path
// is a folder. The message names the flag, the path and the reason:
// "--out /root/x/results.json: cannot write into /root/x: Permission denied".
void check_results_path(const std::string& path);

// Writes `text` to `path` so that a reader sees the old file or the whole new one, never a part:
// into `path`.tmp in the same folder, flushed to the disk, then renamed over `path`.
void write_file_atomically(const std::string& path, const std::string& text);

// A JSON object's text with `key` (plain: nothing to escape) added as its last member, `value_json` being the value's JSON.
// The rest of the text is kept byte for byte (Google Benchmark's JSON may hold NaN, which strict
// parsers refuse, so it is not parsed and rewritten).
std::string with_top_level_key(const std::string& object_json, const std::string& key, const std::string& value_json);

}  // namespace r50

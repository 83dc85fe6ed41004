// file_util.h — whole-file reads and writes with errors that name the file.
#pragma once
#include <cstdint>
#include <string>

namespace tg {

// Reads the whole file; throws std::runtime_error "<path>: cannot open (No such file ...)".
std::string read_file(const std::string& path);

// Writes to path.tmp and renames it over path, so a reader never sees half a file.
void write_file_atomic(const std::string& path, const std::string& contents);

// Why the last failed write failed, in the system's words ("No space left on device", "File too
// large"): errno's text, or "disk full?" when errno says nothing.
std::string write_error_reason();

// Renames from over to; throws naming both when it cannot.
void rename_file(const std::string& from, const std::string& to);

// Size in bytes; throws naming the file when it cannot be read.
int64_t file_size(const std::string& path);

bool is_directory(const std::string& path);

}  // namespace tg

# What the fuzz targets need, for a build of fuzz/ on its own: cmake/Dependencies.cmake requires
# the CUDA toolkit, which they do not. The same choices as there, for the libraries they use:
# stb_image and nlohmann/json (headers), and the JPEG decoders of cmake/JpegDecoders.cmake, shared
# with the project's build (R50_WITH_TURBOJPEG, AUTO by default).
find_package(Threads REQUIRED)

find_path(R50_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
add_library(r50_stb INTERFACE)
target_include_directories(r50_stb SYSTEM INTERFACE "${R50_STB_INCLUDE_DIR}")
find_path(R50_JSON_INCLUDE_DIR nlohmann/json.hpp REQUIRED)
add_library(r50_json INTERFACE)
target_include_directories(r50_json SYSTEM INTERFACE "${R50_JSON_INCLUDE_DIR}")

include(${CMAKE_CURRENT_LIST_DIR}/../cmake/JpegDecoders.cmake)

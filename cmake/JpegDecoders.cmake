# The JPEG decoders, for the project's build and for fuzz/'s build on its own (which has no CUDA
# toolkit, so cannot include Dependencies.cmake): targets r50_turbojpeg and r50_jpeglib where
# found. Reads _r50_hint_include (R50_DEPS_DIR/include, or empty) when the includer sets it.
# libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0-dev) decodes JPEGs about twice as fast as
# stb_image (bench_loader's "decode alone"). Its libjpeg API (libjpeg62-turbo-dev) decodes the part
# of a JPEG that training's crop keeps (jpeg_skip_scanlines, jpeg_crop_scanline); that region
# decoder is used only beside TurboJPEG, so that a region's pixels are always those of the whole
# decode. AUTO uses what it finds; ON requires both; a machine with neither (the GPU machines,
# whose dependencies come from R50_DEPS_DIR) decodes with stb_image alone.
set(R50_WITH_TURBOJPEG AUTO CACHE STRING
    "Decode JPEGs with libjpeg-turbo (TurboJPEG; libjpeg for crops): AUTO (when found), ON (required), OFF")
set_property(CACHE R50_WITH_TURBOJPEG PROPERTY STRINGS AUTO ON OFF)
if(R50_WITH_TURBOJPEG STREQUAL "AUTO" OR R50_WITH_TURBOJPEG)
  find_path(R50_TURBOJPEG_INCLUDE_DIR turbojpeg.h HINTS ${_r50_hint_include})
  find_library(R50_TURBOJPEG_LIBRARY NAMES turbojpeg)  # also in R50_DEPS_DIR/lib, a prefix path
  if(R50_TURBOJPEG_INCLUDE_DIR AND R50_TURBOJPEG_LIBRARY)
    add_library(r50_turbojpeg INTERFACE)
    target_include_directories(r50_turbojpeg SYSTEM INTERFACE "${R50_TURBOJPEG_INCLUDE_DIR}")
    target_link_libraries(r50_turbojpeg INTERFACE "${R50_TURBOJPEG_LIBRARY}")
  elseif(NOT R50_WITH_TURBOJPEG STREQUAL "AUTO")
    message(FATAL_ERROR "TurboJPEG not found (turbojpeg.h: ${R50_TURBOJPEG_INCLUDE_DIR}, library: "
                        "${R50_TURBOJPEG_LIBRARY}): install libturbojpeg0-dev, or configure with "
                        "-DR50_WITH_TURBOJPEG=AUTO or OFF")
  endif()

  # The libjpeg API must be libjpeg-turbo's: IJG's libjpeg has no jpeg_crop_scanline.
  find_path(R50_JPEGLIB_INCLUDE_DIR jpeglib.h HINTS ${_r50_hint_include})
  find_library(R50_JPEGLIB_LIBRARY NAMES jpeg)
  if(TARGET r50_turbojpeg AND R50_JPEGLIB_INCLUDE_DIR AND R50_JPEGLIB_LIBRARY)
    include(CheckSymbolExists)
    set(CMAKE_REQUIRED_INCLUDES "${R50_JPEGLIB_INCLUDE_DIR}")
    set(CMAKE_REQUIRED_LIBRARIES "${R50_JPEGLIB_LIBRARY}")
    check_symbol_exists(jpeg_crop_scanline "stdio.h;jpeglib.h" R50_JPEGLIB_HAS_CROP_SCANLINE)
    unset(CMAKE_REQUIRED_INCLUDES)
    unset(CMAKE_REQUIRED_LIBRARIES)
    if(R50_JPEGLIB_HAS_CROP_SCANLINE)
      add_library(r50_jpeglib INTERFACE)
      target_include_directories(r50_jpeglib SYSTEM INTERFACE "${R50_JPEGLIB_INCLUDE_DIR}")
      target_link_libraries(r50_jpeglib INTERFACE "${R50_JPEGLIB_LIBRARY}")
    endif()
  endif()
  if(NOT TARGET r50_jpeglib AND NOT R50_WITH_TURBOJPEG STREQUAL "AUTO")
    message(FATAL_ERROR "libjpeg-turbo's libjpeg API not found (jpeglib.h: ${R50_JPEGLIB_INCLUDE_DIR}, "
                        "library: ${R50_JPEGLIB_LIBRARY}): install libjpeg62-turbo-dev, or configure "
                        "with -DR50_WITH_TURBOJPEG=AUTO or OFF")
  endif()
endif()
if(TARGET r50_turbojpeg)
  if(TARGET r50_jpeglib)
    set(_r50_regions "crops decoded alone with ${R50_JPEGLIB_LIBRARY}")
  else()
    set(_r50_regions "crops decoded whole: no libjpeg-turbo jpeglib.h")
  endif()
  message(STATUS "JPEG decoder: libjpeg-turbo (${R50_TURBOJPEG_LIBRARY}; ${_r50_regions})")
else()
  message(STATUS "JPEG decoder: stb_image (R50_WITH_TURBOJPEG=${R50_WITH_TURBOJPEG}, TurboJPEG not used)")
endif()

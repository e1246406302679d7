# The static preset's toolchain: Debian's g++ compiling against musl (musl-dev, musl-tools) and
# linking musl's libc.a, with libstdc++'s headers only. No libstdc++ library is linked: shipped
# code uses header-only parts of the standard library, and tools/musl_compat.cpp defines the few
# runtime hooks those headers call. include/uring_okay/musl_compat.hpp, force-included into every
# C++ file, answers what libstdc++'s headers assume about glibc. The size and static-link flags
# themselves are in CMakeLists.txt's `if(UO_STATIC)` block.
#
# Include order (what #include_next in libstdc++'s <cstdlib> and friends needs):
#   libstdc++ -> gcc's own (stddef.h, stdarg.h, intrinsics) -> musl -> kernel and liburing headers
# The kernel's and liburing's headers live in /usr/include beside glibc's, so they are reached
# through a directory of symlinks to exactly them: no glibc header can slip in.
#
# UO_STATIC_PIE=ON links a static PIE (rcrt1.o) instead; it measured 9 KiB larger (relocations,
# self-relocation at start), so the default is a plain static executable.

set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)

execute_process(COMMAND g++ -dumpversion OUTPUT_VARIABLE uo_gcc_version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND g++ -dumpmachine OUTPUT_VARIABLE uo_gnu_triplet
                OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND g++ -print-libgcc-file-name OUTPUT_VARIABLE uo_libgcc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
get_filename_component(uo_gcc_dir "${uo_libgcc}" DIRECTORY)  # crtbegin*.o, include/
string(REGEX REPLACE "-gnu$" "-musl" uo_musl_triplet "${uo_gnu_triplet}")
set(uo_musl_lib /usr/lib/${uo_musl_triplet})
set(uo_musl_include /usr/include/${uo_musl_triplet})
if(NOT EXISTS ${uo_musl_lib}/libc.a OR NOT EXISTS ${uo_musl_include}/stdlib.h)
    message(FATAL_ERROR "musl not found in ${uo_musl_lib} and ${uo_musl_include}: "
                        "install musl-tools and musl-dev (tools/dev install musl-tools musl-dev)")
endif()

# The kernel's and liburing's headers, one symlink each, in the build tree.
set(uo_system_include ${CMAKE_BINARY_DIR}/musl-system-include)
file(MAKE_DIRECTORY ${uo_system_include})
foreach(entry linux asm-generic liburing liburing.h)
    if(EXISTS /usr/include/${entry})
        file(CREATE_LINK /usr/include/${entry} ${uo_system_include}/${entry} SYMBOLIC)
    endif()
endforeach()
file(CREATE_LINK /usr/include/${uo_gnu_triplet}/asm ${uo_system_include}/asm SYMBOLIC)

set(uo_cxx_include /usr/include/c++/${uo_gcc_version})
string(JOIN " " uo_include_flags
    -nostdinc -nostdinc++
    -isystem ${uo_cxx_include}
    -isystem /usr/include/${uo_gnu_triplet}/c++/${uo_gcc_version}
    -isystem ${uo_cxx_include}/backward
    -isystem ${uo_gcc_dir}/include
    -isystem ${uo_musl_include}
    -isystem ${uo_system_include}
    -include ${CMAKE_CURRENT_LIST_DIR}/../include/uring_okay/musl_compat.hpp)
set(CMAKE_CXX_FLAGS_INIT "${uo_include_flags}")
string(JOIN " " CMAKE_C_FLAGS_INIT
    -nostdinc -isystem ${uo_gcc_dir}/include -isystem ${uo_musl_include}
    -isystem ${uo_system_include})

option(UO_STATIC_PIE "Link a static PIE (rcrt1.o) rather than a plain static executable" OFF)
if(UO_STATIC_PIE)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    set(uo_link_mode "-static-pie")
    set(uo_start_files "${uo_musl_lib}/rcrt1.o ${uo_musl_lib}/crti.o ${uo_gcc_dir}/crtbeginS.o")
    set(uo_end_files "${uo_gcc_dir}/crtendS.o ${uo_musl_lib}/crtn.o")
else()
    set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
    set(uo_link_mode "-static -no-pie")
    set(uo_start_files "${uo_musl_lib}/crt1.o ${uo_musl_lib}/crti.o ${uo_gcc_dir}/crtbeginT.o")
    set(uo_end_files "${uo_gcc_dir}/crtend.o ${uo_musl_lib}/crtn.o")
endif()
# -nostdlib: no glibc start files and no libstdc++; -L musl first, so -lpthread and the like
# find musl's (empty) archives before glibc's in the compiler's default directories.
set(uo_link "${uo_link_mode} -nostdlib -L${uo_musl_lib} ${uo_start_files}")
set(uo_link_end "${uo_musl_lib}/libc.a ${uo_libgcc} ${uo_end_files}")
foreach(language C CXX)
    string(JOIN " " CMAKE_${language}_LINK_EXECUTABLE
        "<CMAKE_${language}_COMPILER> <FLAGS> <CMAKE_${language}_LINK_FLAGS> <LINK_FLAGS>"
        "${uo_link} <OBJECTS> -o <TARGET> <LINK_LIBRARIES> ${uo_link_end}")
endforeach()

set(CMAKE_TRY_COMPILE_PLATFORM_VARIABLES UO_STATIC_PIE)

#!/usr/bin/env python3
"""What takes the bytes of the static binary, from the linker's map (build/static/uring-okay.map)
and the unstripped copy the static build keeps beside the binary.

    tests/size_report.py [BUILD_DIR]     (default build/static)

Our code shows as one object after LTO; for its bytes per source file, build without LTO:
    cmake --preset static -B build/static-sizes -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF
    cmake --build build/static-sizes && tests/size_report.py build/static-sizes

Prints the file size, its sections, the bytes each origin brings (our code; each C library
function our code calls, with everything that function pulled in after it; liburing; the start
files), and the largest symbols. Bytes are allocated section bytes of each input object (.text,
.rodata, .data...; not .bss), so they add up to the loaded image, not to the file with its
headers and padding. A library member that several functions need is counted once, under the
first that pulled it in.
"""
import collections
import pathlib
import re
import subprocess
import sys

TOP = pathlib.Path(__file__).resolve().parent.parent
SKIPPED_SECTIONS = (".bss", ".tbss", ".comment", ".note", ".debug", ".gnu.build", ".stab")


def read_map(path):
    lines = path.read_text().splitlines()
    # "Archive member included to satisfy reference by file (symbol)": member, then who wanted
    # it and which symbol, on the same line or the next.
    pulled_by = {}
    at = lines.index("Archive member included to satisfy reference by file (symbol)") + 2
    member = None
    while at < len(lines) and lines[at].strip() and not lines[at].startswith(("Discarded",
                                                                               "Allocating")):
        line = lines[at]
        if not line.startswith(" "):
            member, _, rest = line.partition(" ")
            line = rest
        if line.strip():
            referrer = line.split()[0]
            symbol = re.findall(r"\(([^()]*(?:\([^()]*\))?[^()]*)\)\s*$", line)
            pulled_by[short(member)] = (short(referrer), symbol[-1] if symbol else "?")
        at += 1
    # "Linker script and memory map": input sections and their sizes.
    sizes = collections.Counter()
    section = None
    start = lines.index("Linker script and memory map")
    for line in lines[start:]:
        named = re.match(r"^ (\.\S+)\s*$", line)
        if named:
            section = named.group(1)
            continue
        entry = re.match(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
        if not entry:
            continue
        section = entry.group(1) or section
        size = int(entry.group(3), 16)
        if size and section and not section.startswith(SKIPPED_SECTIONS):
            sizes[short(entry.group(4))] += size
    return pulled_by, sizes


def short(name):
    """/usr/lib/x86_64-linux-musl/libc.a(vfprintf.lo) -> libc.a(vfprintf.lo)"""
    return re.sub(r"^.*/", "", name) if "(" not in name else re.sub(r"^.*/(?=[^/(]*\()", "", name)


def origin(name, pulled_by):
    """Where an object's bytes belong: our code, or a library function our code called."""
    if ".a(" not in name:
        if re.match(r"(crt\w*\.o)$", name):
            return "start files (crt1.o, crti.o, crtbegin/end, crtn.o)"
        if "musl_compat" in name:
            return "tools/musl_compat.cpp (allocator, runtime hooks)"
        if "ltrans" in name:
            return "our code: src/*.cpp (one object after LTO)"
        return f"our code: src/{name.removesuffix('.o')}"
    if name.startswith("liburing_okay_"):
        return f"our code: src/{name.split('(')[1].removesuffix('.o)')}"
    library = name.split("(")[0]
    seen = set()
    while name in pulled_by and name not in seen:
        seen.add(name)
        referrer, symbol = pulled_by[name]
        if ".a(" not in referrer or referrer.startswith("liburing_okay_"):
            return f"{library}: {symbol}"
        if referrer.split("(")[0] != library:
            return f"{referrer.split('(')[0]}: {pulled_by.get(referrer, ('', '?'))[1]}"
        name = referrer
    return f"{library}: ?"


def main():
    build = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else TOP / "build/static"
    binary = build / "uring-okay"
    pulled_by, sizes = read_map(build / "uring-okay.map")
    print(f"{binary}: {binary.stat().st_size:,} bytes on disk (stripped)")
    print()
    sections = subprocess.run(["size", "-A", str(binary)], capture_output=True, text=True).stdout
    print("sections (size -A):")
    for line in sections.splitlines()[2:]:
        if line.strip() and not line.startswith("Total"):
            name, size = line.split()[:2]
            print(f"  {name:<16} {int(size):>8,}")
    print()
    origins = collections.Counter()
    members = collections.defaultdict(list)
    for name, size in sizes.items():
        where = origin(name, pulled_by)
        origins[where] += size
        members[where].append(name.split("(")[-1].rstrip(")"))
    total = sum(origins.values())
    print(f"bytes by origin ({total:,} allocated bytes in all):")
    for where, size in origins.most_common():
        if size < 200:
            continue
        names = sorted(members[where])
        brought = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        print(f"  {size:>7,}  {where}" + (f"  [{brought}]" if ".a:" in where else ""))
    small = sum(size for size in origins.values() if size < 200)
    print(f"  {small:>7,}  (origins under 200 bytes each)")
    print()
    unstripped = build / "uring-okay.unstripped"
    symbols = subprocess.run(["nm", "--size-sort", "--reverse-sort", "-S", "-C", str(unstripped)],
                             capture_output=True, text=True).stdout.splitlines()
    print("largest symbols (nm --size-sort; b/B are .bss, not in the file):")
    for line in symbols[:25]:
        parts = line.split(maxsplit=3)
        if len(parts) == 4:
            print(f"  {int(parts[1], 16):>7,} {parts[2]} {parts[3][:90]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

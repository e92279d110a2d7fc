#!/usr/bin/env python3
"""The Dockerfile, checked without a Docker engine, one case per run.

usage: dockerfile_test.py CASE SOURCE_DIR [BUILD_DIR PROGRAM...]

The machines that run the tests have no Docker engine, so the image is never built here. What can
be checked is that the Dockerfile's build step is the README's (scripts/build_release.sh, which
scripts/bench.sh runs), that its slim stage installs only scripts/install_deps.sh's --runtime list,
and that this list holds every library the programs built here (PROGRAM, under BUILD_DIR) load.
Prints "passed", "skipped: <why>", or why it failed (exit status 1).
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

# CUDA's libraries come from the nvidia/cuda base images, not from the distribution's packages.
CUDA_LIBRARY = re.compile(r"^lib(cuda|cudart|cublas|cublasLt|cudnn\w*|nv\w+)\.so")
# The C library (libc, libm, libdl, libpthread, librt) is in every base image.
BASE_PACKAGES = {"libc6"}
BUILD_ONLY = re.compile(r"(-dev|^g\+\+|^gcc|^clang.*|^cmake|^ninja-build|^pkg-config|^git)$")


class Failed(Exception):
    pass


class Skipped(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def read(source, path):
    with open(os.path.join(source, path)) as file:
        return file.read()


def dockerfile_stages(source):
    """[(FROM argument, [(instruction, argument), ...]), ...], continuation lines joined."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in read(source, "Dockerfile").splitlines()
                                           if not line.lstrip().startswith("#")))
    stages = []
    for line in text.splitlines():
        if not line.strip():
            continue
        instruction, _, argument = line.strip().partition(" ")
        instruction, argument = instruction.upper(), " ".join(argument.split())
        if instruction == "FROM":
            stages.append((argument, []))
        elif stages:
            stages[-1][1].append((instruction, argument))
    return stages


def arguments(stage, instruction):
    return [argument for name, argument in stage[1] if name == instruction]


def install_deps(source, *options):
    """(exit status, stdout, stderr) of scripts/install_deps.sh."""
    done = subprocess.run([os.path.join(source, "scripts", "install_deps.sh")] + list(options),
                          capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def package_list(source, *options):
    status, out, err = install_deps(source, "--print", *options)
    check(status == 0, "install_deps.sh --print %s failed:\n%s" % (" ".join(options), err))
    return out.split()


def builds_as_the_readme_does(source, build_dir, programs):
    stages = dockerfile_stages(source)
    check(len(stages) == 2, "the Dockerfile has %d stages, not 2 (builder and runtime)" % len(stages))
    builder = stages[0]
    check(re.fullmatch(r"nvidia/cuda:\$\{CUDA_VERSION\}-cudnn-devel-ubuntu24\.04 AS builder", builder[0]),
          "the builder is not FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu24.04 AS builder: " + builder[0])
    check(arguments(builder, "WORKDIR") == ["/src"] and "COPY . ." in [" ".join(i) for i in builder[1]],
          "the builder must copy the checkout into /src (WORKDIR /src, COPY . .)")
    runs = arguments(builder, "RUN")
    check(len(runs) == 1, "the builder must have one RUN, the README's build; it has %r" % runs)
    words = shlex.split(runs[0])
    check(words[0] == "scripts/build_release.sh" and not {"&&", ";", "||", "|"} & set(words),
          "the builder's RUN must be scripts/build_release.sh alone, the build scripts/bench.sh runs: " + runs[0])
    targets = words[1:]

    check("scripts/bench.sh" in read(source, "README.md"), "the README no longer shows scripts/bench.sh")
    bench = [line.split() for line in read(source, "scripts/bench.sh").splitlines()]
    check(any(line and line[0] == "scripts/build_release.sh" for line in bench),
          "scripts/bench.sh does not build with scripts/build_release.sh")
    check(not any(line and line[0] in ("cmake", "ninja", "make") for line in bench),
          "scripts/bench.sh builds by itself: its build steps belong in scripts/build_release.sh")
    release = read(source, "scripts/build_release.sh")
    for command in ("scripts/install_deps.sh\n", "cmake --preset release", "cmake --build --preset release"):
        check(command in release, "scripts/build_release.sh does not run `%s`" % command.strip())
    presets = json.loads(read(source, "CMakePresets.json"))["configurePresets"]
    check({"name": "release", "binaryDir": "${sourceDir}/build/release"}.items()
          <= next(p for p in presets if p["name"] == "release").items(),
          "the release preset no longer builds into build/release")

    runtime = stages[1]
    copies = [a.split()[1:-1] for a in arguments(runtime, "COPY") if a.startswith("--from=builder ")]
    check(copies, "the runtime stage copies nothing from the builder")
    for path in sum(copies, []):
        check(path.startswith("/src/build/release/"), "%s is not in the builder's build/release" % path)
        name = os.path.basename(path)
        check(name in targets, "%s is copied but the builder does not build it (targets: %s)" % (name, targets))
        built = [p for p in programs if os.path.basename(p) == name]
        if built:
            relative = os.path.relpath(built[0], build_dir)
            check(path == "/src/build/release/" + relative,
                  "the builder puts %s at %s, not %s" % (name, "/src/build/release/" + relative, path))
        else:
            print("note: %s not built here; its place in build/release not checked" % name)


def slim_stage_installs_only_the_list(source, build_dir, programs):
    stages = dockerfile_stages(source)
    runtime = stages[-1]
    check(re.fullmatch(r"nvidia/cuda:\$\{CUDA_VERSION\}-cudnn-runtime-ubuntu24\.04", runtime[0]),
          "the runtime stage is not FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04: " + runtime[0])
    for stage in stages:
        for run in arguments(stage, "RUN"):
            check(not re.search(r"\b(apt-get|apt|aptitude|dpkg|pip3?|conda)\s", run),
                  "a RUN installs packages outside scripts/install_deps.sh: " + run)
    runs = arguments(runtime, "RUN")
    check(any(re.search(r"(^|/)install_deps\.sh --runtime( |$)", run) for run in runs),
          "the runtime stage does not install with install_deps.sh --runtime: %r" % runs)
    check(any(a.split()[0] == "scripts/install_deps.sh" for a in arguments(runtime, "COPY")),
          "the runtime stage does not copy scripts/install_deps.sh")

    ubuntu = package_list(source, "--runtime", "--distro", "ubuntu")
    debian = package_list(source, "--runtime", "--distro", "debian")
    print("runtime packages, Ubuntu 24.04: %s\n                  Debian 12:    %s" % (" ".join(ubuntu), " ".join(debian)))
    check(ubuntu and len(ubuntu) == len(debian), "the runtime lists differ in length: %r, %r" % (ubuntu, debian))
    build_only = [name for name in ubuntu if BUILD_ONLY.search(name)]
    check(not build_only, "the runtime list holds build packages: %s" % build_only)

    entrypoint = arguments(runtime, "ENTRYPOINT")
    check(len(entrypoint) == 1, "the runtime stage needs one ENTRYPOINT")
    program = json.loads(entrypoint[0])[0]
    check(os.path.basename(program) == "bench_resnet50", "the ENTRYPOINT is not bench_resnet50: " + entrypoint[0])
    copied = {os.path.join(a.split()[-1], os.path.basename(path))
              for a in arguments(runtime, "COPY") if a.startswith("--from=builder ") for path in a.split()[1:-1]}
    check(program in copied, "the ENTRYPOINT %s is not where the program is copied (%s)" % (program, sorted(copied)))


def list_covers_the_programs(source, build_dir, programs):
    if not programs:
        raise Skipped("no program named")
    for tool in ("dpkg", "readelf", "ldd"):
        if not shutil.which(tool):
            raise Skipped("no %s here: the programs' libraries cannot be mapped to packages" % tool)
    listed = set(package_list(source, "--runtime"))
    for program in programs:
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]",
                            subprocess.run(["readelf", "-d", program], capture_output=True, text=True).stdout)
        found = dict(re.findall(r"^\s*(\S+) => (/\S+)", subprocess.run(["ldd", program], capture_output=True,
                                                                         text=True).stdout, re.M))
        check(needed, "readelf found no NEEDED entry in %s" % program)
        for library in needed:
            if CUDA_LIBRARY.match(library):
                continue
            check(library in found, "%s: %s is not found on this machine" % (program, library))
            path = found[library]
            candidates = [path, "/usr" + path] if path.startswith("/lib") else [path]
            owners = [subprocess.run(["dpkg", "-S", p], capture_output=True, text=True).stdout for p in candidates]
            owner = next((o.split(":")[0] for o in owners if o), None)
            check(owner, "%s: no package owns %s (%s)" % (program, library, path))
            check(owner in listed or owner in BASE_PACKAGES,
                  "%s loads %s from the package %s, which scripts/install_deps.sh's runtime list lacks"
                  % (os.path.basename(program), library, owner))
            print("%s: %s from %s" % (os.path.basename(program), library, owner))


def names_resolve(source, build_dir, programs):
    if not shutil.which("apt-cache"):
        raise Skipped("no apt-cache here")
    lists = "/var/lib/apt/lists"
    if not os.path.isdir(lists) or not any("Packages" in name for name in os.listdir(lists)):
        raise Skipped("no apt package lists in %s (apt-get update makes them)" % lists)
    names = package_list(source, "--tests") + package_list(source, "--runtime")
    def known(*names):
        return subprocess.run(["apt-cache", "show", "--no-all-versions"] + list(names), capture_output=True).returncode == 0

    unknown = [] if known(*names) else [name for name in names if not known(name)]
    check(not unknown, "apt knows no package named %s" % ", ".join(unknown))
    print("%d names known to apt here; the Ubuntu names are checked only when the image is built" % len(names))


def readme_shows_the_commands_and_driver(source, build_dir, programs):
    readme = read(source, "README.md")
    section = re.search(r"^## Docker\n(.*?)(?=^## )", readme, re.S | re.M)
    check(section, "the README has no `## Docker` section")
    section = section.group(1)
    for command in ("docker build -t resnet50-bench .",
                    "docker run --gpus all --rm resnet50-bench ",
                    "docker run --gpus all --rm -v /path/to/food-101:/data/food-101 resnet50-bench "
                    "--dataset food101 --data-dir /data/food-101"):
        check(command in section, "the README's Docker section does not show `%s`" % command.strip())
    dockerfile = read(source, "Dockerfile")
    version = re.search(r"^ARG CUDA_VERSION=((\d+)\.(\d+)\.\d+)$", dockerfile, re.M)
    check(version, "the Dockerfile has no ARG CUDA_VERSION=X.Y.Z")
    for kind in ("devel", "runtime"):
        image = "nvidia/cuda:%s-cudnn-%s-ubuntu24.04" % (version.group(1), kind)
        check(image in section, "the README's Docker section does not name the base image " + image)
    driver = re.search(r"CUDA %s\.%s needs R(\d{3})" % version.group(2, 3), section)
    check(driver, "the README's Docker section does not state the driver CUDA %s.%s needs" % version.group(2, 3))
    check("%s.%s needs R%s" % (version.group(2), version.group(3), driver.group(1)) in dockerfile,
          "the Dockerfile's comment and the README disagree on the driver CUDA %s.%s needs" % version.group(2, 3))


def docker_pattern(pattern):
    """A .dockerignore pattern as a regular expression over a path in the context."""
    pattern = os.path.normpath(pattern.strip("/"))
    expression = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
    return re.compile(expression.replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))


def context_keeps_what_the_build_needs(source, build_dir, programs):
    patterns = [line.strip() for line in read(source, ".dockerignore").splitlines()
                if line.strip() and not line.startswith("#")]
    expressions = [docker_pattern(p) for p in patterns]

    def ignored(path):
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return any(e.fullmatch(prefix) for e in expressions for prefix in prefixes)

    check(not ignored(".git/HEAD"), ".dockerignore leaves out .git: the image's results would name no commit")
    if not shutil.which("git") or not os.path.exists(os.path.join(source, ".git")):
        raise Skipped("not a git checkout: tracked files unknown")
    tracked = subprocess.run(["git", "-C", source, "ls-files"], capture_output=True, text=True).stdout.split()
    left_out = [path for path in tracked if ignored(path)]
    check(not left_out, ".dockerignore leaves out tracked files (and the commit would read -dirty): %s" % left_out[:10])
    print("%d tracked files in the context; ignored: %s" % (len(tracked), " ".join(patterns)))


def install_deps_options_combine(source, build_dir, programs):
    build = package_list(source)
    tests = package_list(source, "--tests")
    runtime = package_list(source, "--runtime")
    check(build and tests[:len(build)] == build and len(tests) > len(build), "--tests does not add to the build's list")
    check(runtime and not set(runtime) & set(build), "--runtime lists build packages: %s" % (set(runtime) & set(build)))
    check(sorted(package_list(source, "--runtime", "--tests")) == sorted(set(tests) - set(build) | set(runtime)),
          "--runtime --tests is not the tests' packages with the runtime's")
    for options, message in ((["--bogus"], "unknown option '--bogus'"), (["--distro"], "--distro needs a name"),
                             (["--distro", "fedora", "--print"], "--distro 'fedora'")):
        status, out, err = install_deps(source, *options)
        check(status == 2 and message in err, "install_deps.sh %s: exit status %d, %r" % (" ".join(options), status, err))


CASES = {case.__name__: case for case in (
    builds_as_the_readme_does, slim_stage_installs_only_the_list, list_covers_the_programs, names_resolve,
    readme_shows_the_commands_and_driver, context_keeps_what_the_build_needs, install_deps_options_combine)}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        sys.exit("usage: dockerfile_test.py CASE SOURCE_DIR [BUILD_DIR PROGRAM...]; CASE: " + ", ".join(CASES))
    source, build_dir, programs = sys.argv[2], (sys.argv[3:4] or [""])[0], sys.argv[4:]
    try:
        CASES[sys.argv[1]](source, build_dir, programs)
    except Skipped as why:
        print("skipped: %s" % why)
        return 0
    except Failed as why:
        print("FAILED: %s" % why)
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/perf-layers.py PERF_DATA: where a profile's on-CPU samples went, by layer and by system call.

Reads `perf script` of a bench/profile.sh recording (perf, with the runtime's perf map) and prints two splits of all
samples: by the layer of the frame the sample landed in (the kernel, the runtime's native code, Kestrel, the HTTP client,
System.Text.Json, Durar's assemblies, Serilog, OpenTelemetry, Akka, the base library), and, for the kernel's share, by
the system call (or interrupt) it was serving. The first says how much of a request is Durar's own code at all; the
second what the kernel time is: the sends and receives a proxy cannot avoid, or threads waking and yielding.
"""
import collections, re, subprocess, sys

LAYERS = [
    ('kernel', r'\[kernel\.kallsyms\]'),
    ('Kestrel', r'\[Microsoft\.AspNetCore\.Server\.Kestrel'),
    ('ASP.NET Core, hosting', r'\[Microsoft\.AspNetCore|\[Microsoft\.Extensions'),
    ('HTTP client', r'\[System\.Net\.Http\]'),
    ('sockets', r'\[System\.Net\.Sockets\]|\[System\.Net\.Primitives\]'),
    ('JSON', r'\[System\.Text\.Json\]|\[System\.Text\.Encodings\.Web\]'),
    ('the floor\'s own code (bench/Durar.Bench.Floor)', r'\[Durar\.Bench\.Floor'),
    ('Durar', r'\[Durar\.'),
    ('Serilog', r'\[Serilog'),
    ('OpenTelemetry, metrics', r'\[OpenTelemetry|\[System\.Diagnostics\.DiagnosticSource\]'),
    ('Akka', r'\[Akka'),
    ('SQLite', r'libe_sqlite3|\[Microsoft\.Data\.Sqlite|\[linq2db'),
    ('base library', r'\[System\.'),
    ('runtime (GC, JIT, stubs), libc', r'libcoreclr|libclrjit|libc\.so|ld-linux|libSystem|stub |\[unknown\]|vdso'),
]
SYSCALL = re.compile(r'__x64_sys_(\w+)|(asm_sysvec_\w+|asm_common_interrupt)')


def samples(path):
    out = subprocess.run(['perf', 'script', '-i', path], capture_output=True, text=True, check=True).stdout
    stack = []
    for line in out.splitlines():
        if not line.strip():
            if stack:
                yield stack
            stack = []
        elif line[0] in ' \t':
            stack.append(line.strip())
        else:
            stack = []
    if stack:
        yield stack


def main():
    layers, calls, total, kernel = collections.Counter(), collections.Counter(), 0, 0
    for stack in samples(sys.argv[1]):
        total += 1
        leaf = stack[0]
        layers[next((name for name, rx in LAYERS if re.search(rx, leaf)), 'other')] += 1
        if '[kernel.kallsyms]' in leaf:
            kernel += 1
            found = [m.group(1) or m.group(2) for m in map(SYSCALL.search, stack) if m]
            calls[found[-1] if found else 'other (scheduler, softirq)'] += 1
    if not total:
        sys.exit('no samples')
    print(f'## samples by layer ({total} samples)')
    for name, n in layers.most_common():
        print(f'{100 * n / total:6.1f}%  {name}')
    print(f'## kernel samples by system call or interrupt ({100 * kernel / total:.1f}% of all samples)')
    for name, n in calls.most_common(12):
        print(f'{100 * n / total:6.1f}%  {name}')


if __name__ == '__main__':
    main()

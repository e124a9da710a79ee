"""What the benchmarks' child processes share.

PEAK_MB is source text for a child to run: its own peak resident memory. Not
ru_maxrss: Linux carries a parent's peak over a vfork+exec (subprocess spawns so),
and a benchmark's parent holds the generated inventory, so ru_maxrss reported the
parent's 200 MB for a 10k-VM lock that peaks at 90 MB. VmHWM belongs to the
process's own address space, which exec replaces.
"""

PEAK_MB = '''
def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
'''

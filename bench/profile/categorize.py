#!/usr/bin/env python3
"""Groups a flat `perf report --sort dso,sym` of chaoslab into where one
request's CPU goes, and prints a Markdown table (share, µs per request).

Usage: categorize.py REPORT.txt CPU_US_PER_REQ
The first rule whose pattern matches `dso symbol` names the bucket.
"""
import re
import sys

# (bucket, pattern). Order matters: the first match wins.
RULES = [
    ("guest code (Wasm)", r"\[JIT\]|^\S*perf-\d+\.map"),
    ("memory reset (pooling allocator)", r"memset|pagemap|walk_page|walk_p[gum]d|userfaultfd|madvise|MemoryPool::deallocate|reset_.*to_zero|decommit"),
    ("instantiation (wasmtime)", r"instantiate|Instantiator|InstancePre|OwnedImports|Instance::new|new_raw|allocate_instance|ModuleRegistry|func_loc|CompiledFunctionsTable|get_func_ref|initialize_and_return_funcref|lookup_vmdef|PoolingInstanceAllocator|index_allocator|deallocate_module|OwnedInstance|cranelift_bforest|store_code|FuncKey|trampoline_ptrs|store_invariant_func|image_range|EngineCode|TryVec|get_export_by_index|get_table_with_lazy_init|MemoryPool::allocate|return_memory_image_slot|ComponentInstance|StaticMemory|static_module|TryBTreeMap|invoke_wasm|StoreComponentInstanceId|component::instance::|component_resource_tables|instance_resource_types|resource_type|TypeResourceTable|ref_func"),
    ("WASI and HTTP contexts (per-request state)", r"WasiCtx|HostState.*new|WasiHttpCtx|ResourceTable|resource_table|handle_table|HandleTable|set_spin_headers|new_incoming_request|new_response_outparam"),
    ("wasi-http bodies and streams", r"wasmtime_wasi_http|wasmtime_wasi_io|wasmtime_wasi::p2|HostOutgoingBody|HostIncomingBody|pipe::|streams|body::"),
    ("component calls (canonical ABI, host functions)", r"component::func|LowerContext|LiftContext|HostFunc|HostFn|typed::|canonical|CanonicalAbiInfo|exit_guest|enter_guest|traphandlers|fiber|resume_fiber|VMStore|StoreOpaque|StoreInner|options_memory|libcalls|epoch|concurrent_disabled"),
    ("store call (in-process link, Redis client)", r"redis|chaoslab_sidecar::redis_store|chaoslab_world::host::chaoslab::sidecar::store|RedisStore"),
    ("chaos decision (in-process link)", r"chaos::engine|ChaosEngine|chaoslab_world::host::chaoslab::sidecar::chaos|decide"),
    ("bridge hop (loopback RPC: client, sidecar server, JSON)", r"sidecar_client|hyper_util::client|chaoslab_sidecar::rpc|serde_json|serde::|chaoslab_world::wire|legacy::"),
    ("spans, metrics, logs", r"tracing|opentelemetry|sharded_slab|nu_ansi_term|metrics|Instruments|record_request"),
    ("HTTP server (hyper, accept, headers)", r"hyper::|httparse|http::header|http::|listener::|TrackedFuture|h1::"),
    ("routing and revisions", r"manifest::route|Router|ComponentSlot|revisions::"),
    ("async runtime (tokio)", r"tokio::|futures|poll_fn|Notified|waker|Waker"),
    ("allocator", r"\bmi_|_mi_|malloc|free|realloc|__rust_alloc|__rust_dealloc|__rust_realloc|alloc_shim|RawVec|finish_grow"),
    ("kernel: network and syscalls", r"\[k\] (tcp|sock|inet|ip_|skb|__dev|net|ep_|epoll|__sys|do_syscall|fdget|vfs_|__x64|syscall|_copy_|__check_object|__inet|raw_spin|futex|__schedule|finish_task|irqentry|exit_to_user)"),
    ("libc copies (memmove)", r"memmove|memcpy"),
    ("formatting (core::fmt) and clocks", r"core::fmt|fmt::Write|fmt::Debug|fmt::Display|format_inner|clock_gettime|from_utf8|memchr"),
]


def main():
    path, cpu_us = sys.argv[1], float(sys.argv[2])
    buckets = {}
    total = 0.0
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"\s+([\d.]+)%\s+(.*)$", line)
        if not m:
            continue
        share, what = float(m.group(1)), m.group(2).strip()
        total += share
        bucket = next((name for name, pat in RULES if re.search(pat, what)), None)
        if bucket is None:
            bucket = "kernel: other" if "[k]" in what else "other"
        buckets[bucket] = buckets.get(bucket, 0.0) + share
    print("| where | share of CPU | µs per request |")
    print("|---|---:|---:|")
    for name, share in sorted(buckets.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {share / total * 100:.1f} % | {cpu_us * share / total:.1f} |")
    print(f"| **total** | 100 % | **{cpu_us:.1f}** |")


if __name__ == "__main__":
    main()

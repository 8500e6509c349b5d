;; Inner products of a query with rows of the vector matrix, in WebAssembly SIMD (f32x4).
;; The matrix lives in the index's shared memory, read in place by every search thread; each thread
;; passes its own scratch area (query, row numbers, scores). Byte addresses are unsigned i32.
;; Source of scan-wasm.ts: regenerate with `npm run kernel:build` after editing.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; dot(row at $p, query at $q) over $bytes bytes; $bytes is a multiple of 16 (dims % 4 == 0).
  (func $dot (param $p i32) (param $q i32) (param $bytes i32) (result f32)
    (local $end i32) (local $end64 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end (i32.add (local.get $p) (local.get $bytes)))
    (local.set $end64 (i32.add (local.get $p) (i32.and (local.get $bytes) (i32.const -64))))
    ;; Four independent accumulators over 64-byte steps keep both SIMD pipes busy.
    (block $done64
      (loop $step64
        (br_if $done64 (i32.ge_u (local.get $p) (local.get $end64)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
        (local.set $a1 (f32x4.add (local.get $a1)
          (f32x4.mul (v128.load offset=16 (local.get $p)) (v128.load offset=16 (local.get $q)))))
        (local.set $a2 (f32x4.add (local.get $a2)
          (f32x4.mul (v128.load offset=32 (local.get $p)) (v128.load offset=32 (local.get $q)))))
        (local.set $a3 (f32x4.add (local.get $a3)
          (f32x4.mul (v128.load offset=48 (local.get $p)) (v128.load offset=48 (local.get $q)))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (br $step64)))
    (block $done16
      (loop $step16
        (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $step16)))
    (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                              (f32x4.add (local.get $a2) (local.get $a3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
      (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))

  ;; out[i] = dot(row from + i, query) for the rows [from, to).
  (func (export "scanRange")
    (param $matrix i32) (param $dims i32) (param $query i32) (param $from i32) (param $to i32) (param $out i32)
    (local $stride i32) (local $p i32) (local $row i32)
    (local.set $stride (i32.shl (local.get $dims) (i32.const 2)))
    (local.set $p (i32.add (local.get $matrix) (i32.mul (local.get $from) (local.get $stride))))
    (local.set $row (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $row) (local.get $to)))
        (f32.store (local.get $out) (call $dot (local.get $p) (local.get $query) (local.get $stride)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $next))))

  ;; out[i] = dot(row rows[i], query) for i in [0, n).
  (func (export "scanRows")
    (param $matrix i32) (param $dims i32) (param $query i32) (param $rows i32) (param $n i32) (param $out i32)
    (local $stride i32) (local $end i32)
    (local.set $stride (i32.shl (local.get $dims) (i32.const 2)))
    (local.set $end (i32.add (local.get $rows) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $rows) (local.get $end)))
        (f32.store (local.get $out)
          (call $dot
            (i32.add (local.get $matrix) (i32.mul (i32.load (local.get $rows)) (local.get $stride)))
            (local.get $query)
            (local.get $stride)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
        (br $next)))))

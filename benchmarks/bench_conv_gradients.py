"""Weight gradients of ResNet50's convolutions: TensorFlow's kernel against ``matmul``.

    .venv/bin/python benchmarks/bench_conv_gradients.py
    .venv/bin/python benchmarks/bench_conv_gradients.py --dtypes float32 bfloat16 --repeats 30

The measurement behind ``resnet_course.training.kernels.gemm_conv``: for the convolution
shapes of the course's ResNet50 at batch 64 (64x64 inputs), the time of
``Conv2DBackpropFilter`` against the same gradient computed as one matrix
product (1x1 kernels: inputs^T @ output gradients; k x k kernels: their
im2col patches^T @ output gradients). TensorFlow backend only.
Writes ``artifacts/bench/conv_gradients.json``.
"""

import argparse
import time

from common import add_json_option, keras_module, print_table, write_json

# (batch, height = width, input channels, output channels, kernel size)
SHAPES = [
    (64, 2, 512, 512, 3),
    (64, 2, 512, 2048, 1),
    (64, 2, 2048, 512, 1),
    (64, 4, 256, 256, 3),
    (64, 4, 256, 1024, 1),
    (64, 4, 1024, 256, 1),
    (64, 8, 128, 128, 3),
    (64, 8, 128, 512, 1),
    (64, 15, 64, 64, 3),
    (64, 15, 64, 256, 1),
]


def milliseconds(function, repeats: int) -> float:
    """Mean time of ``function()`` over ``repeats`` calls, after one warm-up call."""
    function().numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        result = function()
    result.numpy()  # wait for the last one
    return (time.perf_counter() - started) / repeats * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", nargs="+", default=["float32"], choices=["float32", "bfloat16"])
    parser.add_argument("--repeats", type=int, default=20)
    add_json_option(parser)
    args = parser.parse_args()

    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        parser.error("this benchmark times TensorFlow kernels: run it with KERAS_BACKEND=tensorflow")
    import tensorflow as tf

    from resnet_course.training.kernels.gemm_conv import _im2col_same

    rows = []
    for batch, size, channels_in, channels_out, kernel in SHAPES:
        for dtype in args.dtypes:
            inputs = tf.cast(tf.random.normal([batch, size, size, channels_in], seed=1), dtype)
            gradients = tf.cast(tf.random.normal([batch, size, size, channels_out], seed=2), dtype)
            convolution = tf.function(
                lambda: tf.raw_ops.Conv2DBackpropFilter(
                    input=inputs,
                    filter_sizes=[kernel, kernel, channels_in, channels_out],
                    out_backprop=gradients,
                    strides=[1, 1, 1, 1],
                    padding="SAME",
                )
            )
            patches = (lambda: inputs) if kernel == 1 else (lambda: _im2col_same(inputs, kernel))
            product = tf.function(
                lambda: tf.matmul(
                    tf.reshape(patches(), [-1, kernel * kernel * channels_in]),
                    tf.reshape(gradients, [-1, channels_out]),
                    transpose_a=True,
                )
            )
            gflop = 2 * batch * size * size * channels_in * channels_out * kernel * kernel / 1e9
            conv_ms, matmul_ms = milliseconds(convolution, args.repeats), milliseconds(product, args.repeats)
            rows.append(
                {
                    "shape": f"{size}x{size} {channels_in}->{channels_out} k{kernel}",
                    "dtype": dtype,
                    "conv ms": conv_ms,
                    "conv GFLOP/s": gflop / conv_ms * 1000,
                    "matmul ms": matmul_ms,
                    "matmul GFLOP/s": gflop / matmul_ms * 1000,
                    "matmul speed-up": conv_ms / matmul_ms,
                }
            )
            print(f"{rows[-1]['shape']} {dtype}: conv {conv_ms:.2f} ms, matmul {matmul_ms:.2f} ms", flush=True)
    print()
    print_table(rows, list(rows[0]))
    write_json("conv_gradients", {"batch": 64, "repeats": args.repeats, "rows": rows}, path=args.json)


if __name__ == "__main__":
    main()

import BNN
import BNNKernels
print("bnn-bench: kernels \(String(cString: bnn_cpu_kernel_name()))")

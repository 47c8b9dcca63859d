import BNN
import Testing

@Suite struct TensorTests {
    @Test func reshapeSharesValuesAndInfersOneDimension() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let r = t.reshaped([3, -1])
        #expect(r.shape == [3, 2])
        #expect(r.scalars == t.scalars)
        #expect(t[1, 2] == 6)
    }

    @Test func layoutConversionRoundTrips() {
        let nchw = Tensor(shape: [2, 3, 2, 4], scalars: (0..<48).map(Float.init))
        let nhwc = Tensor.fromNCHW(nchw)
        #expect(nhwc.shape == [2, 2, 4, 3])
        // Element (n=1, c=2, h=1, w=3) of the NCHW tensor.
        #expect(nhwc[1, 1, 3, 2] == nchw[1, 2, 1, 3])
        #expect(nhwc.toNCHW() == nchw)
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).permuted([1, 0])
        #expect(t.shape == [3, 2] && t.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func arithmeticAndReductions() {
        var a = Tensor(shape: [2, 2], scalars: [1, -2, 3, -4])
        let b = Tensor(shape: [2, 2], scalars: [0.5, 0.5, 0.5, 0.5])
        #expect((a + b).scalars == [1.5, -1.5, 3.5, -3.5])
        #expect((a * b).scalars == [0.5, -1, 1.5, -2])
        #expect(a.sum() == -2 && a.mean() == -0.5 && a.maxAbs() == 4)
        #expect(a.sumPerChannel() == [4, -6])
        a.add(b, scaledBy: 2)
        #expect(a.scalars == [2, -1, 4, -3])
        #expect(a.channelAffine(scale: [2, 1], shift: [0, 1]).scalars == [4, 0, 8, -2])
        #expect(!Tensor(shape: [1], scalars: [.nan]).isFinite)
    }

    @Test func seededGeneratorIsDeterministicWithPlausibleMoments() {
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42)
        let a = Tensor(randomNormal: [10_000], generator: &g1)
        let b = Tensor(randomNormal: [10_000], generator: &g2)
        #expect(a == b)
        #expect(abs(a.mean()) < 0.05)
        #expect(abs(Float(a.squaredNorm()) / 10_000 - 1) < 0.05)
    }
}

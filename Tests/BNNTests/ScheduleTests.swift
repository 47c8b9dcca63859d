import Foundation
import Testing
import BNN

private func close(_ a: Double, _ b: Double, relative: Double = 1e-12) -> Bool {
    abs(a - b) <= relative * max(abs(a), abs(b), 1e-300)
}

@Suite("Learning-rate schedules")
struct ScheduleTests {
    @Test("Constant and step decay")
    func constantAndStepDecay() {
        let constant = ConstantSchedule(learningRate: 0.05)
        #expect(constant.learningRate(atStep: 0) == 0.05 && constant.learningRate(atStep: 123_456) == 0.05)

        let decay = StepDecaySchedule(baseLearningRate: 0.1, stepSize: 30, gamma: 0.1)
        #expect(decay.learningRate(atStep: 0) == 0.1)
        #expect(decay.learningRate(atStep: 29) == 0.1)
        #expect(close(decay.learningRate(atStep: 30), 0.01))
        #expect(close(decay.learningRate(atStep: 65), 0.001))
    }

    @Test("Cosine: warm-up, half-way, end and after the end")
    func cosine() {
        let schedule = CosineSchedule(baseLearningRate: 1, minLearningRate: 0.1, totalSteps: 110,
                                      warmupSteps: 10, warmupStartLearningRate: 0)
        #expect(schedule.learningRate(atStep: 0) == 0)
        #expect(close(schedule.learningRate(atStep: 5), 0.5))
        #expect(schedule.learningRate(atStep: 10) == 1)
        #expect(close(schedule.learningRate(atStep: 60), 0.55))                 // cos(π/2) = 0
        #expect(close(schedule.learningRate(atStep: 35), 0.1 + 0.9 * (1 + cos(Double.pi / 4)) / 2))
        #expect(close(schedule.learningRate(atStep: 110), 0.1))
        #expect(close(schedule.learningRate(atStep: 500), 0.1))
    }

    @Test("MindSpore linear_lr with the Bi-Real Net 34 recipe (no warm-up, 300 + 10 epochs)")
    func linearRecipe() {
        let schedule = LinearDecaySchedule(baseLearningRate: 1e-3, warmupLearningRate: 1e-5, minLearningRate: 1e-6,
                                           warmupEpochs: 0, epochs: 300, cooldownEpochs: 10, stepsPerEpoch: 1000)
        #expect(schedule.totalSteps == 310_000)
        #expect(schedule.learningRate(atStep: 0) == 1e-3)
        #expect(close(schedule.learningRate(atStep: 150_000), 1e-3 - 0.999e-3 * 0.5))
        #expect(close(schedule.learningRate(atStep: 1_500), 1e-3 - 0.999e-3 * 1.5 / 300))   // mid-epoch 1
        #expect(close(schedule.learningRate(atStep: 299_999), 1e-3 - 0.999e-3 * 299.999 / 300))
        #expect(schedule.learningRate(atStep: 300_000) == 1e-6)                            // decay end
        #expect(schedule.learningRate(atStep: 309_999) == 1e-6)                            // cool-down end
    }

    @Test("linear_lr with warm-up: start, middle and end of each phase")
    func linearWithWarmup() {
        let schedule = LinearDecaySchedule(baseLearningRate: 1e-3, warmupLearningRate: 1e-5, minLearningRate: 1e-6,
                                           warmupEpochs: 5, epochs: 105, cooldownEpochs: 10, stepsPerEpoch: 100)
        #expect(schedule.learningRate(atStep: 0) == 1e-5)
        #expect(close(schedule.learningRate(atStep: 250), 1e-5 + 0.99e-3 * 0.5))          // epoch 2.5 of 5
        #expect(close(schedule.learningRate(atStep: 499), 1e-5 + 0.99e-3 * 4.99 / 5))
        #expect(schedule.learningRate(atStep: 500) == 1e-3)                                // warm-up end
        #expect(close(schedule.learningRate(atStep: 5_500), 1e-3 - 0.999e-3 * 0.5))        // epoch 55
        #expect(close(schedule.learningRate(atStep: 10_499), 1e-3 - 0.999e-3 * 99.99 / 100))
        #expect(schedule.learningRate(atStep: 10_500) == 1e-6)                             // cool-down start
        #expect(schedule.learningRate(atStep: schedule.totalSteps - 1) == 1e-6)            // cool-down end
        // Rising through the warm-up, falling through the decay.
        let rates = (0..<schedule.totalSteps).map(schedule.learningRate(atStep:))
        #expect(zip(rates[0..<500], rates[1...500]).allSatisfy { $0 < $1 })
        #expect(zip(rates[500..<10_500], rates[501...10_500]).allSatisfy { $0 > $1 })
    }
}

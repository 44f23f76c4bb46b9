package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Thousands of seeded fault schedules through {@link Simulation}, part of {@code mvn -B verify}. Seeds are
 * {@code twinline.sim.base} + 0, 1, 2, …. System properties (with {@code -D} on the Maven command line):
 * <ul>
 *   <li>{@code twinline.sim.schedules} (default 10000): how many schedules the normal run covers;
 *   <li>{@code twinline.sim.seed}: replay one seed only (the failure message prints the command);
 *   <li>{@code twinline.sim.parallel} (default 96): schedules run at once. Each is mostly waiting on its timers
 *       (heartbeats of 30 ms, slow handlers, backoff), so many share two cores; the load makes heartbeats late and
 *       recoveries spurious, which the invariants must survive too;
 *   <li>{@code twinline.sim.verbose} (default false): print the schedule and final states of every schedule whose
 *       client ended {@code DISCONNECTED}; with {@code twinline.sim.seed}, also that seed's schedule, final states and
 *       violations;
 *   <li>{@code twinline.sim.base} (default {@code 0x7A111E5}): the first seed.
 * </ul>
 * The run prints {@code simulation: N schedules, N calls, N faults applied, N ended DISCONNECTED, T s} to stdout,
 * which surefire writes to {@code host/target/surefire-reports/io.twinline.host.SimulationTest-output.txt};
 * {@code calls} counts the calls the workloads planned. On a violation it fails with every failing seed and its first
 * violation, the first seed's schedule, final states and violations, and the command that replays it:
 * {@code mvn -B verify -Dtest=SimulationTest -Dsurefire.failIfNoSpecifiedTests=false -Dtwinline.sim.seed=<seed>}
 * (which also runs this class's three other tests). The long soak raises the count instead:
 * {@code -Dtwinline.sim.schedules=50000}.
 *
 * <p>The invariants bite: with the network dropping every request the client sends again on a later connection
 * (its replay; {@link SimNetwork.Mutation#DROP_REPLAYS}, and a 1.5 s call timeout) a schedule among the first 300
 * must report {@code call lost}; with the network renumbering those requests so the server cannot know them for
 * repeats ({@link SimNetwork.Mutation#RENUMBER_REPLAYS}), one must report a handler that ran twice. Seed 42 must describe the same schedule twice, and pass.
 */
class SimulationTest {
    private static final long BASE_SEED = Long.getLong("twinline.sim.base", 0x7A1_11E5L);

    @Test
    @Timeout(value = 24, unit = TimeUnit.HOURS) // a soak (-Dtwinline.sim.schedules) runs long; each schedule bounds its own waits
    void invariantsHoldForEverySchedule() throws InterruptedException {
        Long only = Long.getLong("twinline.sim.seed");
        int schedules = only != null ? 1 : Integer.getInteger("twinline.sim.schedules", 10_000);
        int parallel = Integer.getInteger("twinline.sim.parallel", 96);
        ConcurrentLinkedQueue<Simulation.Outcome> failed = new ConcurrentLinkedQueue<>();
        AtomicLong calls = new AtomicLong();
        AtomicLong faults = new AtomicLong();
        AtomicInteger disconnected = new AtomicInteger();
        Semaphore slots = new Semaphore(parallel);
        List<Thread> runs = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < schedules; i++) {
            long seed = only != null ? only : BASE_SEED + i;
            slots.acquire();
            runs.add(Thread.ofVirtual().name("sim-" + seed).start(() -> {
                try {
                    Simulation.Outcome outcome = new Simulation(seed, Simulation.Options.NORMAL).run();
                    calls.addAndGet(outcome.calls());
                    faults.addAndGet(outcome.faults());
                    if (Boolean.getBoolean("twinline.sim.verbose") && only != null) {
                        System.out.println("seed " + seed + ": " + outcome.schedule() + " => " + outcome.finalStates()
                                + " " + outcome.violations());
                    }
                    if (outcome.finalStates().startsWith("client DISCONNECTED")) {
                        disconnected.incrementAndGet();
                        if (Boolean.getBoolean("twinline.sim.verbose")) {
                            System.out.println("DISCONNECTED seed " + seed + ": " + outcome.schedule() + " => "
                                    + outcome.finalStates());
                        }
                    }
                    if (!outcome.ok()) {
                        failed.add(outcome);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    slots.release();
                }
            }));
        }
        for (Thread t : runs) {
            t.join();
        }
        System.out.printf("simulation: %d schedules, %d calls, %d faults applied, %d ended DISCONNECTED, %.1f s%n",
                schedules, calls.get(), faults.get(), disconnected.get(), (System.nanoTime() - started) / 1e9);
        if (!failed.isEmpty()) {
            Simulation.Outcome first = failed.peek();
            StringBuilder all = new StringBuilder();
            for (Simulation.Outcome o : failed) {
                all.append("\n  seed ").append(o.seed()).append(": ").append(o.violations().get(0));
            }
            fail(failed.size() + " of " + schedules + " schedules broke an invariant:" + all + "\nFirst: seed " + first.seed()
                    + "\n  schedule: " + String.join("; ", first.schedule())
                    + "\n  final: " + first.finalStates()
                    + "\n  violations: " + String.join("\n    ", first.violations())
                    + "\n  replay with: mvn -B verify -Dtest=SimulationTest -Dsurefire.failIfNoSpecifiedTests=false"
                    + " -Dtwinline.sim.seed=" + first.seed());
        }
    }

    /** With replayed requests dropped on the wire, a call sent on a connection that then dies is lost: found. */
    @Test
    void invariantsBiteWithoutReplay() throws InterruptedException {
        assertFindsViolation(new Simulation.Options(false, true, Duration.ofMillis(1500)), "call lost");
    }

    /** With replayed requests renumbered on the wire, a call that ran already runs a second time: found. */
    @Test
    void invariantsBiteWithoutDeduplication() throws InterruptedException {
        assertFindsViolation(new Simulation.Options(true, false, Duration.ofSeconds(8)), "times for");
    }

    private static void assertFindsViolation(Simulation.Options options, String expected) throws InterruptedException {
        for (long seed = BASE_SEED; seed < BASE_SEED + 300; seed++) {
            Simulation.Outcome outcome = new Simulation(seed, options).run();
            if (outcome.violations().stream().anyMatch(v -> v.contains(expected))) {
                return;
            }
        }
        fail("no schedule of 300 found a violation containing '" + expected + "' with " + options);
    }

    @Test
    void aSeedDescribesTheSameScheduleEveryTime() throws InterruptedException {
        Simulation.Outcome first = new Simulation(42, Simulation.Options.NORMAL).run();
        Simulation.Outcome again = new Simulation(42, Simulation.Options.NORMAL).run();
        assertTrue(first.schedule().equals(again.schedule()), first.schedule() + " vs " + again.schedule());
        assertTrue(first.ok(), first.violations().toString());
    }
}

package io.twinline.host;

import static io.twinline.host.Testing.utf8;

import io.twinline.api.Session;
import io.twinline.api.TwinlineException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Calls flowing through one session from {@code callers} virtual threads until stopped, each with a unique body,
 * to route {@code count} (a {@link Testing.RunCounter} at the peer). Records every answer and every exception.
 */
final class Traffic {
    final String tag;
    final AtomicLong answered = new AtomicLong();
    final ConcurrentLinkedQueue<String> answeredBodies = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<TwinlineException> failures = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> wrongAnswers = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    private Traffic(String tag) {
        this.tag = tag;
    }

    static Traffic start(String tag, java.util.function.Supplier<Session> session, int callers) {
        Traffic t = new Traffic(tag);
        for (int i = 0; i < callers; i++) {
            int caller = i;
            t.threads.add(Thread.ofVirtual().name("traffic-" + tag + "-" + i).start(() -> {
                for (long k = 0; !t.stop.get(); k++) {
                    String body = tag + "-" + caller + "-" + k;
                    try {
                        String answer = Testing.text(session.get().call("count", utf8(body), Duration.ofSeconds(30)));
                        if (!answer.equals(body)) {
                            t.wrongAnswers.add(body + " -> " + answer);
                        }
                        t.answeredBodies.add(body);
                        t.answered.incrementAndGet();
                    } catch (TwinlineException e) {
                        t.failures.add(e);
                        if (session.get().state().isTerminal()) {
                            return;
                        }
                    }
                }
            }));
        }
        return t;
    }

    /** Stops issuing calls and waits (bounded) for every caller's last call to end. */
    void stopAndJoin() throws InterruptedException {
        stop.set(true);
        for (Thread th : threads) {
            if (!th.join(Duration.ofSeconds(45))) {
                throw new AssertionError("caller " + th.getName() + " hung");
            }
        }
    }
}

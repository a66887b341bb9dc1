package dev.portalloc.internal.thread;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-thread look-up: each thread its own state, whatever the ids say. */
class ThreadStatesTest {

    /** A thread that claims the id of another: the look-up table must not hand it that thread's state. */
    private static final class SameIdThread extends Thread {
        SameIdThread(Runnable body) {
            super(body);
        }

        @Override
        @SuppressWarnings("deprecation")
        public long getId() {
            return 7;
        }
    }

    @Test
    void aThreadGetsTheSameStateOnEveryCallAndOthersGetTheirOwn() throws Exception {
        final ThreadStates states = ThreadStates.seeded(1);
        final ThreadState mine = states.current();
        assertThat(states.current()).isSameAs(mine);
        final AtomicReference<ThreadState> other = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            final ThreadState s = states.current();
            other.set(s == states.current() ? s : null);
        });
        t.start();
        t.join();
        assertThat(other.get()).isNotNull().isNotSameAs(mine);
        assertThat(states.current()).isSameAs(mine);
    }

    @Test
    void threadsWithCollidingIdsKeepTheirOwnStates() throws Exception {
        final ThreadStates states = ThreadStates.seeded(1);
        final CyclicBarrier bothRegistered = new CyclicBarrier(2);
        final AtomicReference<ThreadState> first = new AtomicReference<>();
        final AtomicReference<ThreadState> second = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread a = new SameIdThread(() -> run(states, bothRegistered, first, failure));
        final Thread b = new SameIdThread(() -> run(states, bothRegistered, second, failure));
        a.start();
        b.start();
        a.join();
        b.join();
        assertThat(failure.get()).isNull();
        // both live and registered, both claiming slot 7 & (length - 1): one of them is in the table, the other
        // must be told apart by identity and served by the ThreadLocal
        assertThat(first.get()).isNotNull();
        assertThat(second.get()).isNotNull().isNotSameAs(first.get());
    }

    /** Registers, waits until the other thread has too, then checks that every look-up gives the first state. */
    private static void run(ThreadStates states, CyclicBarrier bothRegistered, AtomicReference<ThreadState> out,
                            AtomicReference<Throwable> failure) {
        try {
            final ThreadState s = states.current();
            bothRegistered.await();
            for (int i = 0; i < 1_000; i++) {
                if (states.current() != s) {
                    throw new AssertionError("another thread's state at call " + i);
                }
            }
            out.set(s);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    @Test
    void theTableHoldsEachLiveStateInItsIdSlotAndNeverTwoInOne() throws Exception {
        final ThreadStates states = ThreadStates.seeded(1);
        final ThreadState mine = states.current();
        final ThreadState[] table = ThreadStates.slots(new ThreadState[] {mine});
        assertThat(table).hasSize(ThreadStates.MIN_SLOTS);
        assertThat(table[(int) Thread.currentThread().getId() & (table.length - 1)]).isSameAs(mine);
        assertThat(ThreadStates.slots(new ThreadState[] {mine, mine, mine})).hasSize(8).containsOnlyOnce(mine);
        final ThreadState[] many = new ThreadState[5_000];
        java.util.Arrays.fill(many, mine);
        assertThat(ThreadStates.slots(many)).hasSize(ThreadStates.MAX_SLOTS).containsOnlyOnce(mine);
    }
}

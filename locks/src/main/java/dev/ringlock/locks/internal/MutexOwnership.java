package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.MutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.MutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.MutexDescriptor.ownerOf;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.internal.jfr.LockEvents;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;

/*
 * Overview
 *
 * This process's ownership of one mutex word: every way the word becomes ours (a free word taken,
 * a dead owner's word taken over) or stops being ours (freed, made not recoverable, dropped at
 * close), the fence each new holder draws, and the rules for trusting an owner read from the word.
 * MutexCore stands on it and adds the decisions: when this process may take the word (barging,
 * starvation, in-process handoff) and what its queue does meanwhile. It is a class of its own so
 * that what a word transition is stays apart from when one is made; it is a superclass rather
 * than a field so that the uncontended lock and unlock call its methods with no object between
 * (they inline as before).
 *
 * Word: 0 = free, else owner pid | WAITERS | OWNER_DIED (MutexDescriptor; docs/protocols.md).
 * Free is 0, or WAITERS alone: a waiter that stands back for a starving process sets WAITERS on a
 * free word and sleeps on it, and whoever takes that word keeps the bit (tryAcquireFree).
 *
 * Owner death. A process that dies holding the word never releases it, and the kernel's robust
 * list (glibc's) cannot help, so processes watch each other (MutexCore: the sleeper's peer
 * watches). A word held by a process that is not alive is taken over with a CAS from that very
 * value to pid | WAITERS | OWNER_DIED (takeOverIfOwnerDied): of all the waiters that saw the death,
 * in any process, the CAS lets exactly one through. WAITERS, because others may sleep on the dead
 * owner's word. Its guard reports ownerDied(). markConsistent() clears OWNER_DIED; a release that
 * finds the guard still inconsistent stores OWNER_DIED without a pid (not recoverable, for good)
 * and wakes every sleeper, and every process fails its queue (releaseNotRecoverable).
 *
 * Liveness is PeerWatches's one definition (a zombie is dead) and policy (cannot tell: alive, so a
 * live owner is never robbed): a lookup while a watch on it exists, and otherwise a probe that
 * keeps nothing open. PID reuse: the watch (a pidfd, which names one process, never a number) is
 * opened before a sleeper is armed, the sleeper's FUTEX_WAIT compares the word with the value the
 * decision was made on, and a takeover is a CAS from that same value; so a pid that left the word
 * in between (released; perhaps reused since) makes the wait fail with EAGAIN or the CAS fail, and
 * the decision is made again.
 *
 * Distrust. Every pid read from the word is checked against pid_max before ProcessWatch is asked
 * about it (checkedOwner), and the fence before it is incremented (nextFence); a bad one is
 * InvalidRegionException(CORRUPT) naming this mutex (MutexDescriptor's *Problem methods, shared
 * with RegionSnapshot). Every CAS on the region reads the word first (casWord), since a CAS on a
 * page the file no longer covers kills the JVM with SIGBUS where a read only throws InternalError
 * (which the public API turns into TRUNCATED).
 *
 * The release: one 64-bit CAS (releaseHold). The word shares an 8-byte-aligned long with the hold
 * tag (MutexDescriptor): the low 32 bits of the fence of the hold in place, moved on by one when
 * that hold is released. A release CASes the pair from exactly what it read, "the word names this
 * process, the tag is this guard's, the fence field is this guard's", to "free, tag + 1": one locked
 * instruction that claims the release once (of two threads unlocking one guard, one CAS wins and
 * the other then reads a moved tag), frees the word and learns WAITERS (from the value it replaced:
 * a sleeper's CAS that set the bit before makes ours fail and re-read; one after finds the word
 * free), where the release used to CAS the fence and then getAndSet the word. A 32-bit tag beside
 * the 32-bit word is the widest that fits one CAS: the futex word must stay 32 bits, and the 64-bit
 * fence cannot join it. So the tag repeats every 2^32 acquisitions, and this is exactly what that
 * allows: a guard released at any time before is refused by its full 64-bit fence, read before the
 * CAS (the field holds the current holder's larger one), and by the pid, for a guard of another
 * process; the one case left is a second unlock() racing the first on the same guard (itself a
 * misuse) whose thread stops between reading the pair and its CAS while this very process makes
 * a multiple of 2^32 acquisitions, and finds at that instant the same word bits: it would release
 * the hold of that moment. At ringlock's fastest (~20 ns an acquisition) that is a stall of at
 * least 86 s inside two instructions, in the one process; StampedLock documents a similar bound
 * for its stamps. The alternatives each cost what this change removes: a per-hold tag in the word
 * takes pid bits (pid_max is 2^22), and a separate claim is a second locked instruction.
 *
 * The fence field is still written only by the holder (nextFence), now with the tag: tag first,
 * then the field, so every state a reader or a taker-over can see, even one a holder killed
 * between the two stores left, is the tag 0, 1 or 2 ahead of the field's low half, and the logical
 * last fence is the field plus that (MutexDescriptor.lastFence). Fences keep their numbering: a
 * release counts one (the tag's move), a new holder draws the last plus one.
 *
 * Memory ordering: the word's CASes and getAndSet are volatile (full) accesses, and so is the
 * release's 64-bit CAS; they order the protected data between holders in any process, and the
 * holder's release stores of the tag and fence before the next holder's acquire loads.
 *
 * `holding`: this object holds the word for one of its guards. Plain: written by whoever takes or
 * frees the word, ordered by the word's own volatile accesses; the pump reads it only together
 * with the word (MutexCore.releaseChecked says why a stale value cannot strand the queue). A
 * release writes false before its CAS, so a second unlock() racing the first on one guard (a
 * misuse) may write false after a new holder of this view wrote true: a stale false only arms a
 * sleeper the holder's release would have made unnecessary, and close does not trust the flag
 * alone (freeWordAtClose also recognises the last fence this view drew as the hold in place).
 */
/** This process's ownership of one mutex word; see the overview in the source. */
abstract class MutexOwnership extends QueuedPrimitive<LockFuture> {
  /** The type as events and messages name it. */
  static final String TYPE_NAME = ObjectType.name(ObjectType.MUTEX);

  final String name;
  final MappedRegion region; // names the file in corruption reports
  final MutexWords words; // the object's fields, by access mode
  final FutexWord word;
  final FutexRing ring;
  final WakeSignal wakeOne;
  final int pid;
  boolean holding; // see the overview
  private long drawnHere; // the last fence this object drew (0 = none): close recognises its hold

  /**
   * @param offset where the mutex object starts (MutexDescriptor.SIZE bytes, 64-byte aligned)
   */
  MutexOwnership(
      String name, MappedRegion region, long offset, FutexScope scope, FutexRing ring, int pid) {
    if (pid <= 0 || pid > PID_MASK) {
      throw new IllegalArgumentException("process id " + pid + " does not fit the lock word");
    }
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + MutexDescriptor.WORD_OFFSET, scope);
    super(ring, word, memory, offset + MutexDescriptor.SLEEPERS_OFFSET, true);
    this.name = name;
    this.region = region;
    this.words = new MutexWords(memory, offset);
    this.word = word;
    this.ring = ring;
    this.wakeOne = ring.wakeSignal(word, 1, FutexRing.ANY_BITSET);
    this.pid = pid;
  }

  // ---- shared memory, access mode in the name ----

  final int lvWord() {
    return words.lvWord();
  }

  /** Read first, then CAS: a CAS on a vanished page kills the JVM (MutexWords says why). */
  final boolean casWord(int expected, int next) {
    return words.casWord(expected, next);
  }

  final int xchgWord(int next) {
    return words.xchgWord(next);
  }

  // ---- the word becomes ours ----

  /**
   * Takes a free word: 0, or WAITERS alone (whose bit it keeps). A failed CAS means someone else
   * changed the word; the caller decides whether to look again (the spin) or to queue.
   */
  final boolean tryAcquireFree() {
    if (casWord(0, pid) || (lvWord() == WAITERS && casWord(WAITERS, pid | WAITERS))) {
      holding = true;
      return true;
    }
    return false;
  }

  /**
   * The uncontended acquisition in one locked instruction: takes a free word and writes the next
   * fence's tag in the same 64-bit CAS of the hold (word and tag), then stores the fence field. The
   * two steps tryAcquireFree and nextFence make separately (a read and a CAS of the word, two reads
   * and two stores for the fence: seven checked accesses to the mapping) become four: read the
   * hold, read the fence, CAS the hold, store the fence. Each checked MemorySegment access compiles
   * to a few hundred bytes; its caller (MutexCore.bargeAndDraw) is kept out of lock() for that, so
   * that lock() compiled stays under C2's InlineSmallCode for a caller to inline it and
   * scalar-replace the guard and its future (Guard's overview).
   *
   * <p>The order is what nextFence keeps: the tag first (here, with the word), then the field, so
   * every state another process can see is one nextFence can leave. The hold is read before the
   * fence: a draw and release made by another process between the two reads moved the tag on, so
   * our CAS from the hold we read fails (only 2^32 draws in between could bring the tag back: the
   * bound MutexOwnership's overview already states for the release). Taken only from a free state
   * whose tag is 0 or 1 ahead of the field (a fresh object, or a hold released), so that while our
   * field store is pending the tag is at most 2 ahead, as after nextFence's tag store; any other
   * state (damage, a fence that would overflow, a word freed at close mid-draw) goes to the
   * two-step path, which reports damage as before (drawAfterTaking).
   *
   * @param object the mutex's bytes (words.object(), in the caller's local: LockHeaderWords says
   *     why)
   * @return the fence drawn, the word now ours; 0 if the word was not free (or the CAS lost a race)
   */
  final long tryAcquireFreeAndDraw(MemorySegment object) {
    long hold = MutexWords.lvHold(object);
    int v = MutexWords.wordOf(hold);
    if ((v & ~WAITERS) != 0) {
      return 0; // held, or not recoverable
    }
    long recorded = LockHeaderWords.laFence(object);
    int ahead = MutexWords.holdTagOf(hold) - (int) recorded;
    if (recorded < 0 || recorded >= MutexDescriptor.MAX_FENCE - 1 || (ahead & ~1) != 0) {
      return drawAfterTaking();
    }
    long fence = recorded + ahead + 1;
    if (!MutexWords.casHoldJustRead(object, hold, MutexWords.hold(pid | v, (int) fence))) {
      return 0;
    }
    holding = true;
    LockHeaderWords.srFence(object, fence);
    drawnHere = fence;
    return fence;
  }

  /**
   * tryAcquireFreeAndDraw's out-of-line path for a fence state it does not draw from: the word
   * taken, then nextFence, which throws the damage (with the word freed again) if there is any.
   */
  private long drawAfterTaking() {
    return tryAcquireFree() ? nextFence() : 0;
  }

  /**
   * Takes the word over from its owner if that process is not alive: one CAS from the very value
   * read, so of every process that saw the death exactly one wins. WAITERS is set, because others
   * may sleep on the dead owner's word; OWNER_DIED until the new holder marks the state consistent.
   *
   * @return whether the word is now ours (the caller draws its guard: newGuard(true))
   */
  final boolean takeOverIfOwnerDied(int v) {
    int owner = ownerOf(v);
    if (owner == 0 || owner == pid || alive(owner)) {
      return false;
    }
    if (!casWord(v, pid | WAITERS | OWNER_DIED)) {
      return false;
    }
    holding = true;
    return true;
  }

  /**
   * Only the holder calls this, so a plain increment is enough, with no atomic of its own: every
   * caller has just made the word ours (tryAcquireFree, a takeover, the pump's CAS, lockAny) or
   * still holds it through this process (an in-process handoff, before the next guard exists). The
   * word orders it across processes: our release store of the fence comes before the getAndSet that
   * frees the word, and the next holder's CAS on the word comes before its acquire load of the
   * fence, so it reads our fence or a later one. An owner that died holding the word issued at most
   * the fence it stored (an aligned 8-byte store is never torn), so the process that takes over
   * draws a larger one. In-process handoff orders through the grant (Grants). A recorded fence that
   * cannot be incremented is corruption: the word just taken is released again (waking a sleeper if
   * it had WAITERS), so the mutex is left as free as it was, and every acquisition reports the
   * damage instead of handing out a negative fence.
   */
  final long nextFence() {
    long recorded = words.laFence();
    int holdTag = words.laHoldTag();
    long last = MutexDescriptor.lastFence(recorded, holdTag);
    String problem = MutexDescriptor.fenceProblem(recorded);
    if (problem == null) {
      problem = MutexDescriptor.holdTagProblem(recorded, holdTag);
    }
    if (problem == null) {
      problem = MutexDescriptor.fenceProblem(last);
    }
    if (problem != null) {
      holding = false;
      if ((xchgWord(0) & WAITERS) != 0) {
        wakeOne.signal();
      }
      throw corrupt(problem);
    }
    long fence = last + 1;
    words.srHoldTag((int) fence); // the tag first: see the overview
    words.srFence(fence);
    drawnHere = fence;
    return fence;
  }

  // ---- the word stops being ours ----

  /** What releaseHold returns for a guard whose hold was released before: nothing was done. */
  static final long REFUSED = -1;

  /**
   * Releases the hold that drew {@code drawn} with one CAS of the word and hold tag (the overview):
   * the word freed and the tag moved on (claimHold keeps the word for this process: an in-process
   * handoff may follow, or the not-recoverable store). Exactly one caller gets the word, however
   * many threads race to unlock one guard; the others, and a guard released before, get REFUSED
   * with nothing done.
   *
   * <p>A fence or tag that no holder could have left (out of range, the tag not 0..2 ahead, or the
   * fence below the guard's: fences only grow) while the word names this process is damage, not a
   * release by someone else: the release goes ahead, so the word is not left held by nobody, and
   * the next draw reports the damage (nextFence) with the word freed.
   *
   * @return the word as it was before the CAS (WAITERS: wake one), or REFUSED
   */
  final long releaseHold(long drawn) {
    MemorySegment object = words.object(); // one local for the three accesses: LockHeaderWords
    long recorded = LockHeaderWords.laFence(object);
    long hold = MutexWords.lvHold(object);
    int v = MutexWords.wordOf(hold);
    // No pid check here: a fence is drawn once per mutex, in any process, so the fence field and
    // the tag both still this guard's mean the hold in place is this guard's (every way a word
    // changes hands without a draw, a release or a claim moving the tag first is by a holder that
    // can no longer unlock: dead, or its region closed). releaseHoldAgain checks the pid before it
    // refuses or calls a state damage.
    if (recorded == drawn && MutexWords.holdTagOf(hold) == (int) drawn) {
      holding = false; // before the CAS, as freeWord does: see the overview
      if (MutexWords.casHoldJustRead(object, hold, MutexWords.hold(0, (int) drawn + 1))) {
        return Integer.toUnsignedLong(v);
      }
    }
    return releaseHoldAgain(drawn, false);
  }

  /** As releaseHold, but the word stays this process's: only the tag moves on (the claim). */
  final long claimHold(long drawn) {
    return releaseHoldAgain(drawn, true);
  }

  /**
   * releaseHold's loop, and claimHold, out of line (Guard.unlock() compiled must stay under C2's
   * InlineSmallCode for callers to inline it: Guard's overview): the first look found the hold
   * changed (refused, or damage) or the CAS failed (a sleeper set WAITERS, or a racing unlock of
   * this guard won).
   */
  private long releaseHoldAgain(long drawn, boolean keepWord) {
    for (; ; ) {
      long recorded = words.laFence();
      TestPausePoints.inReleaseRetry(name);
      long hold = words.lvHold();
      int v = MutexWords.wordOf(hold);
      if (recorded != drawn || MutexWords.holdTagOf(hold) != (int) drawn || ownerOf(v) != pid) {
        // Damage is judged on one state: the field read again unchanged. A fence and a tag read
        // across two draws (a release moves the tag, a draw the tag and then the field) put the
        // tag 3 or more ahead of a field that has since moved on, which no holder leaves; taken
        // for damage, that would free the hold of whoever holds now.
        if (words.laFence() != recorded) {
          continue;
        }
        if (!damagedWhileOurs(drawn, recorded, hold)) {
          return REFUSED; // released: the tag moved on, or another hold drew since, or not ours
        }
      }
      if (!keepWord) {
        holding = false;
      }
      if (words.casHoldJustRead(hold, MutexWords.hold(keepWord ? v : 0, (int) drawn + 1))) {
        return Integer.toUnsignedLong(v);
      }
    }
  }

  /**
   * Whether a hold that is not exactly {@code drawn}'s is damage while the word names this process
   * (releaseHold goes ahead then), rather than a release or draw made since.
   */
  private boolean damagedWhileOurs(long drawn, long recorded, long hold) {
    if (ownerOf(MutexWords.wordOf(hold)) != pid) {
      return false; // free, another process's, or not recoverable: never ours to free
    }
    long last = MutexDescriptor.lastFence(recorded, MutexWords.holdTagOf(hold));
    return MutexDescriptor.fenceProblem(recorded) != null || last < 0 || last < drawn;
  }

  /**
   * Frees the word held through a guard and wakes one sleeper if it had WAITERS. getAndSet, not a
   * store: freeing the word and reading WAITERS must be one atomic step, so a sleeper's CAS that
   * set the bit before is seen here, and one after sees 0 and does not sleep.
   */
  final void freeWord() {
    holding = false;
    int old = xchgWord(0);
    TestPausePoints.afterFreeingWord(name);
    if ((old & WAITERS) != 0) {
      wakeOne.signal();
    }
  }

  /**
   * Stores "not recoverable" and wakes every sleeper, in every process: each one's pump then fails
   * its queue. This process's queue fails here.
   */
  final void releaseNotRecoverable(long fence) {
    holding = false;
    xchgWord(OWNER_DIED);
    LockEvents.notRecoverable(name, TYPE_NAME, pid, fence, "unlock");
    ring.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    // A sleeper of ours, armed for a timed request, is among those woken: its pump finds the
    // queue empty, or refuses what was queued meanwhile.
    failAll(notRecoverableException());
  }

  /**
   * At close: frees the word if this object still holds it (it would wedge every other process).
   * Releasing a mutex taken over from a dead owner without markConsistent() leaves it not
   * recoverable, as unlocking would.
   *
   * @return whether the mutex was left not recoverable: then every sleeper must wake to find out
   */
  final boolean freeWordAtClose() {
    if (!holding && !holdsLastDrawn()) {
      return false;
    }
    holding = false;
    // Only the holder (us) changes OWNER_DIED, so it cannot change between the read and the swap.
    boolean refusing = (lvWord() & OWNER_DIED) != 0;
    long fence = refusing ? words.laFence() : 0;
    xchgWord(refusing ? OWNER_DIED : 0);
    if (refusing) {
      LockEvents.notRecoverable(name, TYPE_NAME, pid, fence, "close");
    }
    return refusing;
  }

  /**
   * Whether the hold in place is the one this object drew last: the word names this process and the
   * tag and fence are that draw's, so no release moved them since.
   */
  final boolean holdsFence(long fence) {
    long hold = words.lvHold();
    return fence != 0
        && ownerOf(MutexWords.wordOf(hold)) == pid
        && MutexWords.holdTagOf(hold) == (int) fence
        && words.laFence() == fence;
  }

  private boolean holdsLastDrawn() {
    return holdsFence(drawnHere);
  }

  /** The holder has repaired the state a dead owner left: the mutex is consistent again. */
  final void markConsistent() {
    checkOpen();
    try {
      words.andWord(~OWNER_DIED);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  // ---- what the word says (the Mutex queries MutexCore inherits) ----

  /** See {@link dev.ringlock.locks.Mutex#name()}. */
  public String name() {
    return name;
  }

  /** See {@link dev.ringlock.locks.Mutex#isLocked()}. */
  public boolean isLocked() {
    return ownerPid() != 0;
  }

  /** See {@link dev.ringlock.locks.Mutex#ownerPid()}. */
  public int ownerPid() {
    try {
      return ownerOf(lvWord());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /** See {@link dev.ringlock.locks.Mutex#isConsistent()}. */
  public boolean isConsistent() {
    try {
      int v = lvWord();
      if ((v & OWNER_DIED) != 0) {
        return false;
      }
      int owner = ownerOf(v);
      return owner == 0 || owner == pid || alive(owner);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /**
   * Not recoverable (OWNER_DIED without a pid; WAITERS perhaps) to free, with a CAS from the value
   * read: a process that took the word meanwhile is never overwritten. Nobody sleeps on a
   * not-recoverable word for long (every sleeper was woken when it became so, and fails), but a
   * stale WAITERS bit gets its wake anyway.
   */
  /** See {@link dev.ringlock.locks.Mutex#resetNotRecoverable()}. */
  public boolean resetNotRecoverable() {
    checkOpen();
    try {
      int v = lvWord();
      if (!notRecoverable(v) || !casWord(v, 0)) {
        return false;
      }
      if ((v & WAITERS) != 0) {
        ring.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
      }
      return true;
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /** The word, for toString: who holds it and how. */
  final String describeWord() {
    int v = lvWord();
    int owner = v & PID_MASK;
    return (notRecoverable(v) ? "not recoverable" : owner == 0 ? "free" : "held by pid " + owner)
        + ((v & OWNER_DIED) != 0 && owner != 0 ? " after its owner died" : "")
        + ((v & WAITERS) != 0 ? " with waiters" : "");
  }

  // ---- trusting what the word says ----

  /**
   * Whether process {@code pid} (read from the region, checked first) is alive: PeerWatches's one
   * definition and policy (a zombie is dead; cannot tell means alive, so a dead owner is taken over
   * at a later look, never a live one now).
   */
  final boolean alive(int pid) {
    checkedOwner(pid);
    return peers.alive(pid);
  }

  /** Whether {@code owner} (nonzero) is this process or one that is alive. */
  final boolean isAliveOwner(int owner) {
    return owner == pid || alive(owner);
  }

  /**
   * {@code owner} (a nonzero pid read from the word) checked before it is asked about: ProcessWatch
   * refuses what is not a pid, and a number no pid can be is damage, not a dead owner.
   */
  final int checkedOwner(int owner) {
    if (owner > MAX_PID) {
      throw corrupt("lock word names pid " + owner + ", above the largest pid " + MAX_PID);
    }
    return owner;
  }

  /**
   * Watches {@code watchedPid} (read from the word or the starving table) for its exit, under the
   * primitive's monitor, which then takes the registry's (see PeerWatches). False, with nothing
   * left watched, if it has exited already: the caller decides again, with nothing armed.
   */
  final boolean watchPeer(int watchedPid) {
    checkedOwner(watchedPid);
    if (peers.watch(watchedPid)) {
      return true;
    }
    peers.unwatchAll();
    return false;
  }

  /** Damage found in this mutex's memory, named after it (InvalidRegionException, CORRUPT). */
  final UncheckedIOException corrupt(String problem) {
    return region.corruption("has a " + describe() + " whose " + problem);
  }

  final NotRecoverableException notRecoverableException() {
    return new NotRecoverableException(
        describe()
            + " is not recoverable: its owner died holding it, and the process that took it over"
            + " released it without markConsistent(). Rebuild what it protects and use a new"
            + " region file or mutex name");
  }

  @Override
  final String describe() {
    return "mutex '" + name + "'";
  }

  @Override
  final RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }
}

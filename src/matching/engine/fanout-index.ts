/**
 * Topic → subscribers index in CSR layout: the subscribers of topic t are
 * subscribers[offsets[t] .. offsets[t + 1]). Topics and subscribers are dense integer indexes
 * (the caller keeps the id ↔ index maps). Two Int32Arrays hold everything: at 1M subscribers ×
 * 5 alerts that is about 20 MB, against hundreds of MB for a Map of arrays.
 */
export interface SubscriberFanout {
  /** Subscribers with at least one fired alert, ascending. */
  subscribers: Int32Array;
  /** Fired topics of subscribers[i] are topics[offsets[i] .. offsets[i + 1]), ascending. */
  offsets: Int32Array;
  topics: Int32Array;
}

export class FanoutIndex {
  private constructor(
    readonly topicCount: number,
    readonly subscriberCount: number,
    private readonly offsets: Int32Array,
    private readonly subscribers: Int32Array,
  ) {}

  /**
   * Builds the index from a source of alerts that can be replayed: `forEachAlert` is called twice
   * (count, then fill), so no intermediate list of pairs is kept.
   */
  static build(
    topicCount: number,
    subscriberCount: number,
    forEachAlert: (emit: (subscriber: number, topic: number) => void) => void,
  ): FanoutIndex {
    const offsets = new Int32Array(topicCount + 1);
    const check = (s: number, t: number) => {
      if (!(t >= 0 && t < topicCount) || !(s >= 0 && s < subscriberCount)) {
        throw new RangeError(`alert (subscriber ${s}, topic ${t}) is out of range`);
      }
    };
    forEachAlert((s, t) => {
      check(s, t);
      offsets[t + 1]++;
    });
    for (let t = 0; t < topicCount; t++) offsets[t + 1] += offsets[t];
    const subscribers = new Int32Array(offsets[topicCount]);
    const cursor = offsets.slice(0, topicCount);
    let total = 0;
    forEachAlert((s, t) => {
      check(s, t);
      if (cursor[t] >= offsets[t + 1]) throw new Error('forEachAlert emitted different alerts on its second pass');
      subscribers[cursor[t]++] = s;
      total++;
    });
    if (total !== subscribers.length) throw new Error('forEachAlert emitted different alerts on its second pass');
    return new FanoutIndex(topicCount, subscriberCount, offsets, subscribers);
  }

  /** Builds from parallel arrays of (subscriber, topic) pairs. */
  static fromPairs(topicCount: number, subscriberCount: number, subscriber: ArrayLike<number>, topic: ArrayLike<number>): FanoutIndex {
    if (subscriber.length !== topic.length) throw new Error('subscriber and topic arrays differ in length');
    return FanoutIndex.build(topicCount, subscriberCount, (emit) => {
      for (let i = 0; i < topic.length; i++) emit(subscriber[i], topic[i]);
    });
  }

  get alertCount(): number {
    return this.subscribers.length;
  }

  /** A view (no copy) of the subscribers of a topic. */
  subscribersOf(topic: number): Int32Array {
    return this.subscribers.subarray(this.offsets[topic], this.offsets[topic + 1]);
  }

  /** Inverts fired topics into, per subscriber, the list of their alerts that fired. */
  fanOut(firedTopics: ArrayLike<number>): SubscriberFanout {
    const fired = Int32Array.from(firedTopics).sort();
    const count = new Int32Array(this.subscriberCount);
    let pairs = 0;
    for (let i = 0; i < fired.length; i++) {
      const t = fired[i];
      if (i > 0 && t === fired[i - 1]) continue;
      for (let j = this.offsets[t], end = this.offsets[t + 1]; j < end; j++) count[this.subscribers[j]]++;
      pairs += this.offsets[t + 1] - this.offsets[t];
    }
    let n = 0;
    for (let s = 0; s < count.length; s++) if (count[s] > 0) n++;
    const subscribers = new Int32Array(n);
    const offsets = new Int32Array(n + 1);
    // count[s] becomes the write cursor of subscriber s.
    for (let s = 0, i = 0, at = 0; s < count.length; s++) {
      if (count[s] === 0) continue;
      subscribers[i] = s;
      const c = count[s];
      count[s] = at;
      at += c;
      offsets[++i] = at;
    }
    const topics = new Int32Array(pairs);
    for (let i = 0; i < fired.length; i++) {
      const t = fired[i];
      if (i > 0 && t === fired[i - 1]) continue;
      for (let j = this.offsets[t], end = this.offsets[t + 1]; j < end; j++) topics[count[this.subscribers[j]]++] = t;
    }
    return { subscribers, offsets, topics };
  }
}

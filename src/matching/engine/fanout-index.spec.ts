import { FanoutIndex } from './fanout-index';

describe('FanoutIndex', () => {
  // subscriber → topics
  const alerts: [number, number][] = [
    [0, 2], [0, 0],
    [1, 2],
    [2, 1], [2, 2], [2, 3],
    [4, 3],
  ];
  const index = FanoutIndex.fromPairs(4, 5, alerts.map((a) => a[0]), alerts.map((a) => a[1]));

  it('lists the subscribers of each topic', () => {
    expect([...index.subscribersOf(2)]).toEqual([0, 1, 2]);
    expect([...index.subscribersOf(0)]).toEqual([0]);
    expect([...index.subscribersOf(3)]).toEqual([2, 4]);
    expect(index.alertCount).toBe(alerts.length);
  });

  it('fans fired topics out to subscribers, each with their fired alerts', () => {
    const fan = index.fanOut([3, 2, 3]);
    const per: Record<number, number[]> = {};
    fan.subscribers.forEach((s, i) => (per[s] = [...fan.topics.subarray(fan.offsets[i], fan.offsets[i + 1])]));
    expect(per).toEqual({ 0: [2], 1: [2], 2: [2, 3], 4: [3] });
  });

  it('reaches nobody when nothing fired', () => {
    const fan = index.fanOut([]);
    expect(fan.subscribers.length).toBe(0);
    expect([...fan.offsets]).toEqual([0]);
  });

  it('rejects alerts out of range', () => {
    expect(() => FanoutIndex.fromPairs(2, 2, [0], [5])).toThrow(RangeError);
  });
});

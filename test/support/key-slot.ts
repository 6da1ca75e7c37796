/**
 * The Redis Cluster hash slot of a key, as the cluster computes it: CRC16 (XMODEM) of the
 * key's hash tag (the text inside its first non-empty `{...}`), else of the whole key, modulo
 * 16,384. Lets a test on a single Redis prove that a multi-key command would not be
 * CROSSSLOT on a cluster.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16_384;
}

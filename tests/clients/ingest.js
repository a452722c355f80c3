// node-postgres write scenarios for pggw's integration tests.
// Usage: node ingest.js CONNECTION_STRING SCENARIO   (prints one "tag ..." line per statement)
const { Client } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const { pipeline } = require('stream/promises');
const { Readable } = require('stream');

async function params(client) {
  let r = await client.query(
    'INSERT INTO events (external_id, start_time, metadata, asset_ids, type) VALUES ($1, $2, $3, $4, $5)',
    ['node-ev', new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 250)), { k: 'v' }, [1, 2], null]);
  console.log(`tag ${r.command} ${r.rowCount}`);
  r = await client.query(
    'INSERT INTO double_datapoints (external_id, timestamp, value) VALUES ($1, $2, $3), ($1, $4, $5)',
    ['node-dp', '2024-01-01T00:00:00Z', 1.5, new Date(Date.UTC(2024, 0, 1, 0, 0, 1)), -2]);
  console.log(`tag ${r.command} ${r.rowCount}`);
  await client.query('BEGIN');
  r = await client.query('UPDATE events SET type = $1 WHERE external_id = $2', ['alarm', 'node-ev']);
  console.log(`tag ${r.command} ${r.rowCount}`);
  r = await client.query('DELETE FROM double_datapoints WHERE external_id = $1', ['node-dp']);
  console.log(`tag ${r.command} ${r.rowCount}`);
  await client.query('COMMIT');
}

async function copy(client) {
  const stream = client.query(copyFrom(
    'COPY string_datapoints (external_id, timestamp, value) FROM STDIN'));
  const lines = [];
  for (let i = 0; i < 1000; i++) {
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
    lines.push(`node-copy\t${ts}\tv${i}\\t${i}\n`);
  }
  // Rows split at arbitrary points across CopyData messages.
  const text = lines.join('');
  const parts = [];
  for (let i = 0; i < text.length; i += 997) parts.push(text.slice(i, i + 997));
  await pipeline(Readable.from(parts), stream);
  console.log(`copied ${stream.rowCount}`);
}

async function copyError(client) {
  const stream = client.query(copyFrom(
    'COPY double_datapoints (external_id, timestamp, value) FROM STDIN'));
  try {
    await pipeline(Readable.from(['node-bad\t2024-01-01T00:00:00Z\t1\n',
                                  'node-bad\t2024-01-01T00:00:01Z\tzz\n']), stream);
    console.log('no error');
  } catch (e) {
    console.log(`error ${e.code} ${e.where || ''}`);
  }
  const r = await client.query("INSERT INTO assets (external_id, name) VALUES ('node-after', 'x')");
  console.log(`tag ${r.command} ${r.rowCount}`);
}

async function main() {
  const [url, scenario] = process.argv.slice(2);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await { params, copy, 'copy-error': copyError }[scenario](client);
  } finally {
    await client.end();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });

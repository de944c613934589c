// node-vault compatibility test: drives a running Ward server with the
// node-vault client, unchanged, and checks the values that come back.
//
//   VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root node --test test.mjs
//
// The token must be a root token. Every name this test creates carries a
// per-run suffix, so it can run against a server that is in use.
// cmd/ward/nodevault_test.go runs it against a fresh `ward server -dev`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import vault from 'node-vault';

const addr = process.env.VAULT_ADDR;
const rootToken = process.env.VAULT_TOKEN;
if (!addr || !rootToken) {
    throw new Error('set VAULT_ADDR and VAULT_TOKEN (a root token) to run this test');
}

const run = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);

// client returns a node-vault client for the server; it reads VAULT_ADDR
// itself, so only the token is passed.
function client(token = rootToken) {
    return vault({ token });
}

// fails asserts that promise rejects with node-vault's ApiResponseError
// carrying HTTP status and, when given, errors[0] === message.
async function fails(promise, status, message) {
    await assert.rejects(promise, (err) => {
        assert.ok(err.response, `want an API error, got ${err}`);
        assert.equal(err.response.statusCode, status, `status of ${err.message}`);
        if (message !== undefined) {
            assert.equal(err.message, message);
        }
        return true;
    });
}

// semver matches the version strings Terraform and others parse.
const semver = /^\d+\.\d+\.\d+([-+].*)?$/;

test('status, initialized, health, leader', async () => {
    const v = client();

    const st = await v.status();
    assert.equal(st.type, 'shamir');
    assert.equal(st.initialized, true);
    assert.equal(st.sealed, false);
    assert.ok(Number.isInteger(st.t) && st.t >= 1, `t = ${st.t}`);
    assert.ok(Number.isInteger(st.n) && st.n >= st.t, `n = ${st.n}`);
    assert.equal(st.progress, 0);
    assert.match(st.version, semver);

    assert.deepEqual(await v.initialized(), { initialized: true });

    const h = await v.health();
    assert.equal(h.initialized, true);
    assert.equal(h.sealed, false);
    assert.equal(h.standby, false);
    assert.match(h.version, semver);
    assert.ok(Number.isInteger(h.server_time_utc), `server_time_utc = ${h.server_time_utc}`);
    assert.ok(Math.abs(h.server_time_utc - Date.now() / 1000) < 120, `server_time_utc = ${h.server_time_utc}`);

    // The query codes go on the URL; an active node still reports itself.
    const h2 = await v.health({ standbyok: true, sealedcode: 299, uninitcode: 299 });
    assert.equal(h2.sealed, false);
    assert.equal(h2.initialized, true);
    // node-vault hands back sys/health bodies whatever the status code.
    const h3 = await v.health({ activecode: 473 });
    assert.equal(h3.sealed, false);
    assert.equal(h3.standby, false);

    const l = await v.leader();
    assert.equal(typeof l.ha_enabled, 'boolean');
    if (l.ha_enabled) {
        assert.equal(l.is_self, true);
        assert.match(l.leader_address, /^https?:\/\//);
    }
});

test('kv v2: write, read, update, list, delete', async () => {
    const v = client();
    const dir = `nv-${run}`;
    const p = `secret/data/${dir}/app`;

    const w1 = await v.write(p, { data: { user: 'alice', n: 1 } });
    assert.equal(w1.data.version, 1);
    assert.equal(w1.data.destroyed, false);
    assert.equal(w1.data.deletion_time, '');
    assert.ok(!Number.isNaN(Date.parse(w1.data.created_time)), `created_time = ${w1.data.created_time}`);

    const r1 = await v.read(p);
    assert.deepEqual(r1.data.data, { user: 'alice', n: 1 });
    assert.equal(r1.data.metadata.version, 1);
    assert.equal(r1.lease_id, '');
    assert.equal(r1.renewable, false);

    const w2 = await v.write(p, { data: { user: 'bob', n: 2 }, options: { cas: 1 } });
    assert.equal(w2.data.version, 2);
    await fails(v.write(p, { data: { user: 'eve' }, options: { cas: 1 } }), 400);

    // update is PATCH with a JSON merge patch: add a key, drop one with null.
    const u = await v.update(p, { data: { pass: 's3cret', n: null } });
    assert.equal(u.data.version, 3);
    assert.deepEqual((await v.read(p)).data.data, { user: 'bob', pass: 's3cret' });
    assert.deepEqual((await v.read(`${p}?version=1`)).data.data, { user: 'alice', n: 1 });

    const help = await v.help(p);
    assert.equal(typeof help.data.help, 'string');
    assert.ok(help.data.help.length > 0);

    await v.write(`secret/data/${dir}/sub/deep`, { data: { x: 'y' } });
    const ls = await v.list(`secret/metadata/${dir}`);
    assert.deepEqual([...ls.data.keys].sort(), ['app', 'sub/']);
    const top = await v.list('secret/metadata/');
    assert.ok(top.data.keys.includes(`${dir}/`), `keys = ${top.data.keys}`);
    await fails(v.list(`secret/metadata/${dir}/nothing`), 404);
    // With noCustomHTTPVerbs node-vault lists with GET ?list=1.
    const get = vault({ token: rootToken, noCustomHTTPVerbs: true });
    assert.deepEqual([...(await get.list(`secret/metadata/${dir}`)).data.keys].sort(), ['app', 'sub/']);

    // Soft delete: the latest version reads as 404 with its metadata.
    await v.delete(p);
    await assert.rejects(v.read(p), (err) => {
        assert.equal(err.response.statusCode, 404);
        assert.equal(err.response.body.data.data, null);
        assert.equal(err.response.body.data.metadata.version, 3);
        assert.notEqual(err.response.body.data.metadata.deletion_time, '');
        return true;
    });

    const meta = await v.read(`secret/metadata/${dir}/app`);
    assert.equal(meta.data.current_version, 3);
    assert.deepEqual(Object.keys(meta.data.versions).sort(), ['1', '2', '3']);

    await v.delete(`secret/metadata/${dir}/app`);
    await v.delete(`secret/metadata/${dir}/sub/deep`);
    await assert.rejects(v.read(p), (err) => {
        assert.equal(err.response.statusCode, 404);
        assert.deepEqual(err.response.body, { errors: [] });
        assert.equal(err.message, 'Status 404');
        return true;
    });
    await fails(v.list(`secret/metadata/${dir}`), 404);
});

test('kv v1 on a mount it enables, mounts, unmount', async () => {
    const v = client();
    const mount = `nvkv1-${run}`;

    await v.mount({ mount_point: mount, type: 'kv', description: 'node-vault kv v1', options: { version: '1' } });
    const ms = await v.mounts();
    const info = ms.data[`${mount}/`];
    assert.ok(info, `no ${mount}/ in ${Object.keys(ms.data)}`);
    assert.equal(info.type, 'kv');
    assert.equal(info.description, 'node-vault kv v1');
    assert.equal(info.options.version, '1');
    assert.match(info.accessor, /^kv_[0-9a-f]{8}$/);
    // sys/mounts also puts each mount at the top level.
    assert.deepEqual(ms[`${mount}/`], info);
    assert.equal(ms['secret/'].type, 'kv');
    assert.equal(ms['secret/'].options.version, '2');
    assert.equal(ms['sys/'].type, 'system');
    assert.equal(ms['cubbyhole/'].type, 'cubbyhole');

    await fails(v.mount({ mount_point: mount, type: 'kv' }), 400);

    await v.write(`${mount}/app/db`, { user: 'alice', ttl: '1h' });
    await v.write(`${mount}/app/api`, { key: 'k1' });
    const r = await v.read(`${mount}/app/db`);
    assert.deepEqual(r.data, { user: 'alice', ttl: '1h' });
    assert.equal(r.lease_duration, 3600);
    assert.equal(r.lease_id, '');
    assert.equal(r.renewable, false);

    // A write replaces the whole entry.
    await v.write(`${mount}/app/api`, { key: 'k2' });
    assert.deepEqual((await v.read(`${mount}/app/api`)).data, { key: 'k2' });

    const ls = await v.list(`${mount}/app`);
    assert.deepEqual([...ls.data.keys].sort(), ['api', 'db']);
    assert.deepEqual((await v.list(`${mount}/`)).data.keys, ['app/']);

    await v.delete(`${mount}/app/db`);
    await fails(v.read(`${mount}/app/db`), 404);
    assert.deepEqual((await v.list(`${mount}/app`)).data.keys, ['api']);

    await v.unmount({ mount_point: mount });
    const after = await v.mounts();
    assert.equal(after.data[`${mount}/`], undefined);
    assert.ok(after.data['secret/'], 'secret/ went with the unmount');

    // kv-v2 alias through node-vault's mount().
    const m2 = `nvkv2-${run}`;
    await v.mount({ mount_point: m2, type: 'kv-v2' });
    const ms2 = await v.mounts();
    assert.equal(ms2.data[`${m2}/`].type, 'kv');
    assert.equal(ms2.data[`${m2}/`].options.version, '2');
    const w = await v.write(`${m2}/data/x`, { data: { a: 'b' } });
    assert.equal(w.data.version, 1);
    await v.unmount({ mount_point: m2 });
    await fails(v.read(`${m2}/data/x`), 404);
});

test('auths', async () => {
    const v = client();
    const a = await v.auths();
    const tok = a.data['token/'];
    assert.ok(tok, `no token/ in ${Object.keys(a.data)}`);
    assert.equal(tok.type, 'token');
    assert.match(tok.accessor, /^auth_token_[0-9a-f]{8}$/);
    assert.deepEqual(a['token/'], tok);
});

test('policies, addPolicy, getPolicy, removePolicy', async () => {
    const v = client();
    const name = `nv-pol-${run}`;
    const rules = 'path "secret/data/nv-pol/*" {\n  capabilities = ["read", "list"]\n}\n';

    await v.addPolicy({ name, rules });

    const got = await v.getPolicy({ name });
    assert.equal(got.data.name, name);
    assert.equal(got.data.rules, rules);
    // node-vault users read the injected top-level fields.
    assert.equal(got.name, name);
    assert.equal(got.rules, rules);

    const list = await v.policies();
    for (const want of [name, 'default', 'root']) {
        assert.ok(list.policies.includes(want), `policies = ${list.policies}`);
        assert.ok(list.data.policies.includes(want), `data.policies = ${list.data.policies}`);
        assert.ok(list.keys.includes(want), `keys = ${list.keys}`);
    }

    const rules2 = 'path "secret/data/nv-pol/*" {\n  capabilities = ["read"]\n}\n';
    await v.addPolicy({ name, rules: rules2 });
    assert.equal((await v.getPolicy({ name })).rules, rules2);

    await fails(v.addPolicy({ name: 'bad-' + run, rules: 'path "x" { capabilities = ' }), 400);

    await v.removePolicy({ name });
    await fails(v.getPolicy({ name }), 404);
    assert.ok(!(await v.policies()).policies.includes(name));
    await fails(v.removePolicy({ name: 'root' }), 400);
});

test('token create, lookup-self, renew-self, revoke-self switch the client token', async () => {
    const root = client();
    const pol = `nv-tok-${run}`;
    await root.addPolicy({
        name: pol,
        rules: `path "secret/data/nv-tok-${run}/*" {\n  capabilities = ["read"]\n}\n`,
    });
    await root.write(`secret/data/nv-tok-${run}/s`, { data: { v: 'visible' } });

    const v = client();
    const created = await v.tokenCreate({
        policies: [pol],
        ttl: '1h',
        display_name: 'nodevault',
        meta: { app: 'compat' },
    });
    const tok = created.auth.client_token;
    assert.equal(typeof tok, 'string');
    assert.ok(tok.length >= 20, `client_token = ${tok}`);
    assert.notEqual(tok, rootToken);
    assert.deepEqual([...created.auth.policies].sort(), ['default', pol].sort());
    assert.equal(created.auth.lease_duration, 3600);
    assert.equal(created.auth.renewable, true);
    assert.deepEqual(created.auth.metadata, { app: 'compat' });
    assert.equal(created.data, null);
    // node-vault switched to the new token.
    assert.equal(v.token, tok);

    const self = await v.tokenLookupSelf();
    assert.equal(self.data.id, tok);
    assert.equal(self.data.accessor, created.auth.accessor);
    assert.deepEqual([...self.data.policies].sort(), ['default', pol].sort());
    assert.equal(self.data.display_name, 'token-nodevault');
    assert.equal(self.data.path, 'auth/token/create');
    assert.deepEqual(self.data.meta, { app: 'compat' });
    assert.equal(self.data.type, 'service');
    assert.ok(self.data.ttl > 3500 && self.data.ttl <= 3600, `ttl = ${self.data.ttl}`);
    assert.equal(self.data.creation_ttl, 3600);

    // The new token's policy is in force.
    assert.equal((await v.read(`secret/data/nv-tok-${run}/s`)).data.data.v, 'visible');
    await fails(v.write(`secret/data/nv-tok-${run}/s`, { data: { v: 'x' } }), 403, 'permission denied');
    await fails(v.read('secret/data/elsewhere'), 403, 'permission denied');

    const renewed = await v.tokenRenewSelf({ increment: '2h' });
    assert.equal(renewed.auth.client_token, tok);
    assert.equal(renewed.auth.accessor, created.auth.accessor);
    assert.equal(renewed.auth.lease_duration, 7200);
    assert.equal(renewed.auth.renewable, true);
    assert.equal(v.token, tok);
    const after = await v.tokenLookupSelf();
    assert.ok(after.data.ttl > 7100 && after.data.ttl <= 7200, `ttl after renew = ${after.data.ttl}`);

    const renewed2 = await v.tokenRenewSelf({ increment: 600 });
    assert.equal(renewed2.auth.lease_duration, 600);

    await v.tokenRevokeSelf();
    await fails(v.tokenLookupSelf(), 403);
    await fails(v.read(`secret/data/nv-tok-${run}/s`), 403);

    // The root client is untouched.
    assert.equal(root.token, rootToken);
    assert.equal((await root.tokenLookupSelf()).data.id, rootToken);
    await root.removePolicy({ name: pol });
});

test('token lookup, renew and revoke by token and by accessor', async () => {
    const root = client();
    const pol = `nv-parent-${run}`;
    await root.addPolicy({ name: pol, rules: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n' });

    // Each token*Create switches the client that made it, so every new
    // token gets a fresh client.
    const newToken = async (args, by = rootToken) => (await client(by).tokenCreate(args)).auth;

    const orphan = await client().tokenCreateOrphan({ policies: ['default'], ttl: '30m' });
    const lo = await root.tokenLookup({ token: orphan.auth.client_token });
    assert.equal(lo.data.orphan, true);
    assert.equal(lo.data.path, 'auth/token/create-orphan');
    assert.equal(lo.data.creation_ttl, 1800);

    const t = await newToken({ policies: ['default'], ttl: '1h', display_name: 'acc' });
    const byToken = await root.tokenLookup({ token: t.client_token });
    assert.equal(byToken.data.id, t.client_token);
    assert.equal(byToken.data.accessor, t.accessor);
    assert.equal(byToken.data.display_name, 'token-acc');
    const byAcc = await root.tokenLookupAccessor({ accessor: t.accessor });
    assert.equal(byAcc.data.id, '');
    assert.equal(byAcc.data.accessor, t.accessor);
    assert.equal(byAcc.data.display_name, 'token-acc');

    // tokenRenew switches the renewing client to the renewed token.
    const renewer = client();
    const rn = await renewer.tokenRenew({ token: t.client_token, increment: 120 });
    assert.equal(rn.auth.client_token, t.client_token);
    assert.equal(rn.auth.lease_duration, 120);
    assert.equal(renewer.token, t.client_token);

    const accs = await root.tokenAccessors();
    assert.ok(accs.data.keys.includes(t.accessor), `accessors = ${accs.data.keys}`);
    await root.tokenRevokeAccessor({ accessor: t.accessor });
    await fails(client(t.client_token).tokenLookupSelf(), 403);
    await fails(root.tokenLookup({ token: t.client_token }), 403);
    assert.ok(!(await root.tokenAccessors()).data.keys.includes(t.accessor));

    // revoke takes the children along; revoke-orphan leaves them.
    const parent = await newToken({ policies: [pol], ttl: '1h' });
    const child = await newToken({ policies: ['default'], ttl: '1h' }, parent.client_token);
    const parent2 = await newToken({ policies: [pol], ttl: '1h' });
    const child2 = await newToken({ policies: ['default'], ttl: '1h' }, parent2.client_token);
    assert.equal((await client(child.client_token).tokenLookupSelf()).data.orphan, false);

    await root.tokenRevoke({ token: parent.client_token });
    await fails(client(parent.client_token).tokenLookupSelf(), 403);
    await fails(client(child.client_token).tokenLookupSelf(), 403);

    await root.tokenRevokeOrphan({ token: parent2.client_token });
    await fails(client(parent2.client_token).tokenLookupSelf(), 403);
    const kept = await client(child2.client_token).tokenLookupSelf();
    assert.equal(kept.data.accessor, child2.accessor);

    await client(child2.client_token).tokenRevokeSelf();
    await client(orphan.auth.client_token).tokenRevokeSelf();
    await root.removePolicy({ name: pol });
});

test('wrapped write and read, unwrap', async () => {
    const v = client();
    const wrapped = await v.write('sys/wrapping/wrap', { user: 'alice', pw: 'p@ss' }, {
        headers: { 'X-Vault-Wrap-TTL': '90s' },
    });
    const info = wrapped.wrap_info;
    assert.equal(typeof info.token, 'string');
    assert.ok(info.token.length >= 20);
    assert.equal(typeof info.accessor, 'string');
    assert.equal(info.ttl, 90);
    assert.equal(info.creation_path, 'sys/wrapping/wrap');
    assert.ok(Math.abs(Date.parse(info.creation_time) - Date.now()) < 120000, `creation_time = ${info.creation_time}`);
    assert.equal(wrapped.data, null);
    assert.equal(wrapped.auth, null);

    const un = await v.unwrap({ token: info.token });
    assert.deepEqual(un.data, { user: 'alice', pw: 'p@ss' });
    await fails(v.unwrap({ token: info.token }), 400, 'wrapping token is not valid or does not exist');

    // Wrapping a KV read.
    const p = `secret/data/nv-wrap-${run}`;
    await v.write(p, { data: { k: 'v' } });
    const wr = await v.read(p, { headers: { 'X-Vault-Wrap-TTL': '120' } });
    assert.equal(wr.wrap_info.ttl, 120);
    assert.equal(wr.wrap_info.creation_path, p);
    assert.equal(wr.data, null);
    const unr = await v.unwrap({ token: wr.wrap_info.token });
    assert.deepEqual(unr.data.data, { k: 'v' });
    assert.equal(unr.data.metadata.version, 1);

    // A wrapped token creation leaves the client's token alone; the token
    // comes out of the unwrap.
    const wt = await v.tokenCreate({
        policies: ['default'],
        ttl: '10m',
        requestOptions: { headers: { 'X-Vault-Wrap-TTL': '60' } },
    });
    assert.equal(wt.auth, null);
    assert.equal(v.token, rootToken);
    assert.equal(wt.wrap_info.creation_path, 'auth/token/create');
    assert.equal(typeof wt.wrap_info.wrapped_accessor, 'string');
    assert.ok(wt.wrap_info.wrapped_accessor.length > 0);
    const ut = await v.unwrap({ token: wt.wrap_info.token });
    assert.equal(ut.auth.accessor, wt.wrap_info.wrapped_accessor);
    assert.equal(ut.auth.lease_duration, 600);
    const child = client(ut.auth.client_token);
    const self = await child.tokenLookupSelf();
    assert.equal(self.data.accessor, wt.wrap_info.wrapped_accessor);
    await child.tokenRevokeSelf();

    await fails(v.write('sys/wrapping/wrap', { a: 'b' }), 400);
    await v.delete(`secret/metadata/nv-wrap-${run}`);
});

// Runs last: it seals the server. VAULT_UNSEAL_KEY (the dev server's
// unseal key) lets it unseal again; without it the test is skipped.
test('init refused, seal, sealed answers, unseal', { skip: !process.env.VAULT_UNSEAL_KEY && 'VAULT_UNSEAL_KEY not set' }, async () => {
    const v = client();
    const p = `secret/data/nv-seal-${run}`;
    await v.write(p, { data: { kept: 'yes' } });

    await fails(v.init({ secret_shares: 1, secret_threshold: 1 }), 400);

    await v.seal();
    const st = await v.status();
    assert.equal(st.sealed, true);
    assert.equal(st.progress, 0);
    assert.equal(st.initialized, true);

    // 503 from sys/health still comes back as a body.
    const h = await v.health();
    assert.equal(h.sealed, true);
    assert.equal(h.initialized, true);
    await fails(v.read(p), 503, 'Vault is sealed');
    await fails(v.tokenLookupSelf(), 503, 'Vault is sealed');

    await fails(v.unseal({ key: 'AAAA' + process.env.VAULT_UNSEAL_KEY.slice(4) }), 400);
    const un = await v.unseal({ key: process.env.VAULT_UNSEAL_KEY });
    assert.equal(un.sealed, false);
    assert.equal(un.progress, 0);
    assert.equal(un.t, st.t);

    assert.equal((await v.health()).sealed, false);
    assert.deepEqual((await v.read(p)).data.data, { kept: 'yes' });
    await v.delete(`secret/metadata/nv-seal-${run}`);
});

// Runs extension.js outside VS Code, with `vscode` and `vscode-languageclient/node`
// replaced by recording stand-ins: checks the command it starts (`cmflow lsp` and the
// settings), where (the workspace folder), for which documents, that a settings change
// restarts the server, and that a server that cannot start is reported, not thrown.
//
// Run: node test/extension.test.js (no dependency needed; exits 1 on a failure).
'use strict';

const assert = require('node:assert/strict');
const Module = require('node:module');
const path = require('node:path');

const settings = { path: '/opt/cmflow/bin/cmflow', args: ['--log', 'debug'] };
const events = [];
let configListener;
let failStart = false;
let lastClient;

const vscode = {
    workspace: {
        workspaceFolders: [{ uri: { fsPath: '/models/contoso' } }],
        getConfiguration: (section) => {
            assert.equal(section, 'cmflow');
            return { get: (key, fallback) => (key in settings ? settings[key] : fallback) };
        },
        createFileSystemWatcher: (glob) => ({ glob }),
        onDidChangeConfiguration: (listener) => {
            configListener = listener;
            return { dispose() {} };
        },
    },
    window: {
        createOutputChannel: (name) => ({ name, dispose() {} }),
        showErrorMessage: async (message) => {
            events.push(['error', message]);
            return undefined;
        },
    },
    commands: {
        registerCommand: (name) => {
            events.push(['command', name]);
            return { dispose() {} };
        },
        executeCommand: async () => undefined,
    },
};

class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
        this.id = id;
        this.serverOptions = serverOptions;
        this.clientOptions = clientOptions;
        lastClient = this;
    }
    async start() {
        events.push(['start', this.serverOptions.run.command, this.serverOptions.run.args]);
        if (failStart) {
            throw new Error('spawn cmflow ENOENT');
        }
    }
    async stop() {
        events.push(['stop']);
    }
}

const stand_ins = {
    vscode,
    'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0 } },
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
    return request in stand_ins ? request : resolve.call(this, request, ...rest);
};
for (const [name, exports] of Object.entries(stand_ins)) {
    require.cache[name] = { id: name, filename: name, loaded: true, exports };
}

const extension = require(path.join(__dirname, '..', 'extension.js'));

async function main() {
    const context = { subscriptions: [] };
    await extension.activate(context);
    assert.deepEqual(events.shift(), ['command', 'cmflow.restartServer']);
    assert.deepEqual(events.shift(), [
        'start',
        '/opt/cmflow/bin/cmflow',
        ['lsp', '--log', 'debug'],
    ]);
    assert.equal(context.subscriptions.length, 3);
    // Run in the workspace folder, over stdio, for KDL files, watching every .kdl file.
    assert.equal(lastClient.id, 'cmflow');
    assert.deepEqual(lastClient.serverOptions.run.options, { cwd: '/models/contoso' });
    assert.equal(lastClient.serverOptions.run.transport, 0);
    assert.deepEqual(lastClient.clientOptions.documentSelector, [
        { scheme: 'file', language: 'kdl' },
    ]);
    assert.deepEqual(lastClient.clientOptions.synchronize.fileEvents, { glob: '**/*.kdl' });

    // A settings change that is not the server's restarts nothing; `cmflow.path` does.
    settings.path = '';
    configListener({ affectsConfiguration: (key) => key === 'editor.tabSize' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, []);
    configListener({ affectsConfiguration: (key) => key === 'cmflow.path' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events.shift(), ['stop']);
    // An empty path falls back to `cmflow` on PATH.
    assert.deepEqual(events.shift(), ['start', 'cmflow', ['lsp', '--log', 'debug']]);

    // A binary that cannot start: one error message naming the command, no exception.
    failStart = true;
    settings.args = [];
    configListener({ affectsConfiguration: (key) => key === 'cmflow.args' });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events.shift(), ['stop']);
    assert.deepEqual(events.shift(), ['start', 'cmflow', ['lsp']]);
    const [kind, message] = events.shift();
    assert.equal(kind, 'error');
    assert.match(message, /cannot start `cmflow lsp` \(spawn cmflow ENOENT\)/);
    // Nothing runs, so deactivating stops nothing.
    await extension.deactivate();
    assert.deepEqual(events, []);
    console.log('extension.test.js: ok');
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});

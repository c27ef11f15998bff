// The cmflow extension: a thin client that runs `cmflow lsp` for the KDL files of the
// workspace. Every feature (diagnostics, hover, definitions, completion, fixes) is the
// server's; this file only starts it, restarts it when its settings change, and says
// clearly when the binary cannot be started.
//
// Plain JavaScript on purpose: no build step between the repository and the .vsix.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let output;

/** How to run the server, from the `cmflow.*` settings. */
function serverOptions() {
    const config = vscode.workspace.getConfiguration('cmflow');
    const command = config.get('path') || 'cmflow';
    const extra = config.get('args') || [];
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // The model's files are named relative to the folder the server runs in.
    const executable = {
        command,
        args: ['lsp', ...extra],
        transport: TransportKind.stdio,
        options: folder ? { cwd: folder } : {},
    };
    return { run: executable, debug: executable };
}

function clientOptions() {
    return {
        documentSelector: [{ scheme: 'file', language: 'kdl' }],
        // A model spans files: the server hears of those changed outside the editor.
        synchronize: {
            fileEvents: vscode.workspace.createFileSystemWatcher('**/*.kdl'),
        },
        outputChannel: output,
        traceOutputChannel: output,
    };
}

async function start() {
    client = new LanguageClient('cmflow', 'cmflow', serverOptions(), clientOptions());
    try {
        await client.start();
    } catch (err) {
        const command = vscode.workspace.getConfiguration('cmflow').get('path') || 'cmflow';
        client = undefined;
        const choice = await vscode.window.showErrorMessage(
            `cmflow: cannot start \`${command} lsp\` (${err && err.message ? err.message : err}). ` +
                'Install cmflow or set `cmflow.path`.',
            'Open settings',
        );
        if (choice === 'Open settings') {
            await vscode.commands.executeCommand('workbench.action.openSettings', 'cmflow.path');
        }
    }
}

async function stop() {
    const running = client;
    client = undefined;
    if (running) {
        await running.stop();
    }
}

async function restart() {
    await stop();
    await start();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
    output = vscode.window.createOutputChannel('cmflow');
    context.subscriptions.push(
        output,
        vscode.commands.registerCommand('cmflow.restartServer', restart),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('cmflow.path') || event.affectsConfiguration('cmflow.args')) {
                restart();
            }
        }),
    );
    await start();
}

function deactivate() {
    return stop();
}

module.exports = { activate, deactivate };

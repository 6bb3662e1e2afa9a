//! `chat-client --url URL send --username U --text T` posts a message;
//! `chat-client --url URL subscribe --username U [--last-message-id N] [--count N]` prints
//! each message as one JSON line, resuming lost streams from the last id with backoff, and
//! exits after `--count` messages (or runs until interrupted).

use std::ops::ControlFlow;
use std::process::ExitCode;

use chat::proto::{Chat, ChatClient, SendMessageRequest};
use chat::subscribe_with_resume;
use clap::{Parser, Subcommand};
use webrpc_client::{CallOptions, Client};

/// Calls webrpc's streaming chat example.
#[derive(Debug, Parser)]
#[command(name = "chat-client", version)]
struct Args {
    /// The server's base URL, such as http://127.0.0.1:4848.
    #[arg(long)]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Posts a message.
    Send {
        /// Who is talking.
        #[arg(long)]
        username: String,
        /// What they say.
        #[arg(long)]
        text: String,
    },
    /// Prints the messages after `--last-message-id` (all stored ones without it), then each
    /// new one, as JSON lines.
    Subscribe {
        /// Who is listening (announced to the chat as "USERNAME joined").
        #[arg(long)]
        username: String,
        /// Start after this message id.
        #[arg(long)]
        last_message_id: Option<u64>,
        /// Exit after this many messages.
        #[arg(long)]
        count: Option<u64>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let client = match Client::builder(&args.url).build() {
        Ok(client) => ChatClient::new(client),
        Err(err) => {
            eprintln!("chat-client: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.command {
        Command::Send { username, text } => client
            .send_message(CallOptions::new(), SendMessageRequest { username, text })
            .await
            .map(drop),
        Command::Subscribe {
            username,
            last_message_id,
            count,
        } => {
            let mut printed = 0u64;
            let subscription = subscribe_with_resume(
                &client,
                &username,
                last_message_id,
                |message| {
                    match serde_json::to_string(message) {
                        Ok(line) => println!("{line}"),
                        Err(err) => eprintln!("chat-client: cannot print message: {err}"),
                    }
                    printed += 1;
                    if count.is_some_and(|count| printed >= count) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
                |err, wait| eprintln!("chat-client: {err}; reconnecting in {wait:?}"),
            );
            tokio::select! {
                result = subscription => result,
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chat-client: {err}");
            ExitCode::FAILURE
        }
    }
}

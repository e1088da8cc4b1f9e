"""E-mail intake (SPEC §3, §6, §8): messages in, claim batches out, one reply per message.

    message                    one raw e-mail read: MailMessage, parse_message, content_hash
    headers, mime, parts       its headers and sender; its MIME tree; one part (text, files)
    htmltext                   an HTML body as the text the form reader expects
    forms, history, labels     the claim form in the body; which lines the sender wrote
    reply, wording             the reply message; what it says of each batch
    outbox, sending, refusals  the outbox folder; a send run; what a server's refusal means
    smtp                       the SMTP server named by RMA_SMTP_URL
"""

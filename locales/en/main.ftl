## The connect page
connect-title = Connect your CRM
connect-lead = Bring your Telegram bots into the CRM's chats. Enter your CRM's address and an API key, and this module registers itself in your CRM.
connect-crm-url = CRM address
connect-crm-url-hint = The address you open your CRM at, like https://yourshop.retailcrm.ru
connect-api-key = API key
connect-api-key-hint = Create it in the CRM under Settings → Integration → API keys, with the rights integration_read and integration_write.
connect-submit = Connect

## The settings page
settings-title = Settings
settings-heading = Your CRM is connected
settings-reconnect = The chat gateway no longer accepts this account's token, so messages cannot flow.
settings-reconnect-link = Connect the CRM again
settings-reconnect-after = {" "}to fix it.
settings-crm = CRM
settings-status = Status
settings-status-active = Active
settings-status-frozen = Frozen by the CRM
settings-status-off = Switched off in the CRM
settings-mg-endpoint = Chat gateway
settings-connected = Connected
settings-bots = Bots
settings-no-bots = No bots yet. Add one below: its chats appear in the CRM.
settings-bot = Bot
settings-bot-channel = Channel
settings-bot-status = Status
settings-bot-added = Added
settings-bot-active = Active
settings-bot-removed = Removed
settings-bot-remove = Remove
settings-add-bot = Add a bot
settings-add-bot-hint = Create a bot with @BotFather in Telegram and paste the token it gives you, like 123456789:AAH…
settings-add-bot-submit = Add bot
settings-business = Telegram Business accounts
settings-business-howto = A merchant's own Telegram account can be answered from the CRM too: in Telegram, Settings → Telegram Business → Chatbots, choose one of the bots above. Each account connected that way appears here, with a chat channel of its own.
settings-business-account = Account
settings-business-rights = Rights
settings-business-connected = Connected
settings-business-off = Off
settings-business-can-reply = reply
settings-business-can-read = mark read
settings-bot-messenger = Messenger
settings-add-max-bot = Add a MAX bot
settings-add-max-bot-hint = Create a bot on business.max.ru (Chat bots → Create a bot) and paste its token from the Integration tab.
settings-back = Back to the CRM
settings-date-unknown = unknown

## The failed list
failed-title = Failed deliveries
failed-alert = Some messages did not reach their chat: see Failed deliveries
failed-none = No failed deliveries. Every message of the last days reached its chat.
failed-howto = These messages did not reach their chat. Fix the cause shown, then retry them; a retried message goes after the messages of its chat that came in meanwhile. Discard deletes one for good.
failed-retry-all = Retry all
failed-retry = Retry
failed-discard = Discard
failed-when = Failed
failed-accepted = received
failed-direction = Direction
failed-direction-to-crm = Customer → CRM
failed-direction-to-messenger = CRM → customer
failed-customer = Customer
failed-customer-unknown = (no name)
failed-reason = Reason
failed-attempts = Attempts
failed-outcome-retry = failed, retried later
failed-outcome-failed = failed for good
failed-newer = ← Newer
failed-older = Older →
failed-reason-refused-by-mg = The CRM's chat refused the message.
failed-reason-refused-by-messenger = The messenger refused the message.
failed-reason-customer-unreachable = The customer blocked the bot or cannot be written to.
failed-reason-reply-window-closed = The time to reply has passed (Telegram Business allows 24 hours).
failed-reason-spam-suspicion = The messenger took the message for spam.
failed-reason-gave-up = Kept failing for a day (the other side did not answer); retry once it is back.
failed-reason-unknown = Failed.

## Message pages
message-connect-link = Connect a CRM
page-not-found = Page not found
page-not-found-text = There is nothing at this address.
page-not-found-reconnect = There is nothing at this address. If you followed a link from your CRM, connect the CRM again.
page-form-expired = Form expired
page-form-expired-text = This form expired or was sent from another site. Open the page again and resubmit.
page-bad-request = Bad request
page-bad-request-text = The request could not be read. Open the page again and resubmit.
page-internal = Something went wrong
page-internal-text = Something went wrong on our side. Try again in a few minutes.

## Why a CRM address was refused (inside error-connect-invalid-url)
address-empty = enter the address of your CRM, like https://yourshop.retailcrm.ru
address-unreadable = { $address } cannot be read as a URL ({ $error })
address-https-only = the CRM is reached over https only; write https://
address-not-web = { $scheme }:// is not a web address; write https://
address-user-info = the address must not contain a user name or password
address-port = the address must not contain a port
address-path = enter only the CRM's address, without a path (like https://yourshop.retailcrm.ru)
address-no-host = the address has no host

## Why the CRM did not register the chat transport (inside error-connect-chats)
chats-no-endpoint = its answer has no MessageGateway endpoint
chats-empty-token = its answer has an empty MessageGateway token
chats-unusable-endpoint = its answer has no usable MessageGateway endpoint
chats-endpoint-not-public = its MessageGateway endpoint is not on the public internet: { $reason }
chats-endpoint-unresolvable = its MessageGateway endpoint does not resolve
# The CRM's own words, quoted.
chats-crm-said = { $message }

## Connecting
error-internal = Something went wrong on our side. Try again in a few minutes.
error-connect-invalid-url = The CRM address is not valid: { $reason }.
error-connect-host-not-allowed = { $host } is not a CRM address this module may connect to. Enter your CRM's own address, like https://yourshop.retailcrm.ru.
error-connect-blocked = { $host } resolves to { $ip }, a { $class } address. This module only connects to CRMs on the public internet.
error-connect-unresolvable = { $host } does not resolve to any address. Check the address and try again.
error-connect-unreachable = Could not reach the CRM at { $url } ({ $reason }). Check the address and try again.
error-connect-not-a-crm = { $url } does not answer like a CRM. Check that this is the address you open your CRM at.
error-connect-wrong-key = The CRM does not accept this API key. Copy the key again from the CRM's Settings → Integration → API keys.
error-connect-missing-scopes = This API key lacks the rights { $scopes }. In the CRM, edit the key, allow them, and try again.
error-connect-no-api-v5 = This CRM does not offer API version 5 (it offers { $versions }). This module needs API v5.
error-connect-no-versions = none
error-connect-payment = The CRM refused to activate the module for lack of funds: { $message }. Top up the CRM account's balance, then connect again.
error-connect-chats = The CRM did not register the module's chat transport ({ $reason }). Check that chats are enabled in the CRM's settings, then connect again.
error-connect-crm = The CRM answered with an error ({ $reason }). Try again in a few minutes.
error-api-key-empty = Enter the API key you created in the CRM.
error-api-key-too-long = That API key is too long: CRM API keys are short strings of letters and digits.
error-api-key-characters = That API key contains spaces or other characters an API key never has.

## The simple connection
error-register-no-data = No data provided: the form field `register` is missing or empty.
error-register-invalid-json = Invalid JSON provided: `register` must be a JSON object with token, apiKey and systemUrl.
error-register-too-large = the request body is too large

## Bots
error-bot-token-empty = Enter the bot token: @BotFather gives it when you create a bot (/newbot), or again with /token.
error-bot-token-shape = That does not look like a bot token: it is the text @BotFather gave you, like 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw (digits, a colon, then letters and digits).
error-bot-token-characters = That bot token contains spaces or other characters a bot token never has: copy it again from @BotFather, in one piece.
error-bot-token-length = That bot token is cut short or has extra text: after the colon a bot token has about 35 letters, digits, dashes and underscores. Copy it again from @BotFather.
error-bot-token-hint-telegram = Copy it again from @BotFather (or issue a new one with /token).
error-max-token-empty = Enter the MAX bot's token: it is on the bot's Integration tab at business.max.ru.
error-max-token-characters = That MAX token contains spaces or other characters a token never has: copy it again in one piece.
error-max-token-length = That MAX token is cut short or has extra text: copy it again from the bot's Integration tab.
error-bot-token-hint-max = Copy it again from the bot's page on business.max.ru (Chat bots → Integration).
error-bot-account-disabled = The module is switched off or frozen in the CRM. Switch it on in the CRM's Marketplace, then add the bot.
error-bot-needs-reconnect = The chat gateway no longer accepts this account's token. Connect the CRM again, then add the bot.
error-bot-token-rejected = { $messenger } does not accept this token. { $hint }
error-bot-messenger-unreachable = { $messenger } could not be reached ({ $reason }). Try again in a minute.
error-bot-messenger-refused = { $messenger } refused: { $reason }.
error-bot-taken = The bot @{ $bot } is already connected to another CRM account. Remove it there first.
error-bot-mg-refused = The chat gateway refused the channel: { $reason }.
error-bot-mg-unreachable = The chat gateway could not be reached ({ $reason }). Try again in a minute.
error-remove-needs-reconnect = The chat gateway no longer accepts this account's token. Connect the CRM again, then remove the bot.
error-remove-mg-unreachable = The chat gateway could not be reached ({ $reason }). Nothing was removed; try again in a minute.
error-remove-mg-refused = The chat gateway refused to remove the channel: { $reason }.

## What the bridge writes for a customer's message MG has no type for, in the customer's language
customer-location = 📍 Location: { $latitude }, { $longitude } { $map }
customer-live-location = 📍 Live location: { $latitude }, { $longitude } { $map }
customer-contact = 👤 Contact: { $name }, { $phone }
customer-contact-phone = 👤 Contact: { $phone }
customer-poll = 📊 Poll: { $question }
customer-quiz = 📊 Quiz: { $question }
customer-sticker = {"["}sticker]
customer-too-large = 📎 { $name } — too large for the bot to download; ask the customer to send it another way
customer-too-large-sized = 📎 { $name } ({ $size }) — too large for the bot to download; ask the customer to send it another way
customer-megabytes = { $size } MB
customer-file = file
customer-file-photo = photo
customer-file-animation = animation
customer-file-video = video
customer-file-video-message = video message
customer-file-voice-message = voice message
customer-file-audio = audio
customer-file-sticker = sticker
customer-forwarded = ↪ Forwarded from { $name }
customer-forwarded-unknown = ↪ Forwarded
customer-dice = { $emoji } Dice: { $value }
customer-story = 📰 A story from { $name } (it opens only in Telegram)
customer-story-unknown = 📰 A story (it opens only in Telegram)
customer-checklist = ☑️ Checklist: { $title }
customer-paid-media = ⭐ Paid media for { $stars } Stars (it opens only in Telegram)
customer-giveaway = 🎁 Giveaway, winners: { $count }
customer-giveaway-winners = 🏆 Giveaway winners ({ $count }): { $names }
customer-web-app-data = 🧩 Web app data ({ $button }): { $data }
customer-game = 🎮 Game: { $title }
customer-invoice = 🧾 Invoice: { $title }, { $amount } { $currency }
customer-payment = 💳 Payment: { $amount } { $currency }
customer-refund = ↩️ Refund: { $amount } { $currency }
customer-service = ℹ️ A Telegram service message the bridge cannot show ({ $kind })
customer-unsupported = ℹ️ A Telegram message the bridge cannot show; see the chat in Telegram

## Product and order cards, in the account's language
card-article = Article:
card-order = Order
card-order-number = Order { $number }
card-status = Status:
card-delivery = Delivery:
card-address = Address:
card-payment = Payment:
card-discount = Discount:
card-total = Total: { $amount }
card-paid = paid
card-not-paid = not paid
card-status-new = new
card-status-approval = approval
card-status-assembling = assembling
card-status-delivery = delivery
card-status-complete = complete
card-status-cancelled = cancelled

## The bots' health on the settings page, and the CRM administrators' notifications
health-heading = Bot health
health-token = Token
health-token-ok = valid
health-token-bad = revoked
health-webhook = Webhook
health-checked = Last checked
health-not-checked = not checked yet
health-last-in = Last customer message
health-last-out = Last operator message
health-delivered = Delivered (24 h)
health-failed = Failed (24 h)
health-blocked = Customers who blocked the bot
health-reply-p50 = First reply, median (7 days)
health-reply-p90 = First reply, 90 % within (7 days)
health-replies = Chats answered (7 days)
health-unanswered = Chats without a reply after 15 min (7 days)
health-never = never
health-no-replies = no replies yet
health-webhook-ok = working (updates waiting: { $pending })
health-webhook-error = failing: { $error } (updates waiting: { $pending })
health-webhook-not-ours = not pointing at this bridge
health-webhook-unknown = unknown while the token is refused
health-duration-seconds = { $n } s
health-duration-minutes = { $n } min
health-duration-hours = { $h } h { $m } min
health-token-revoked = The token of { $bot } was revoked in @BotFather: add the bot again with its new token.
health-token-revoked-max = MAX no longer accepts the token of { $bot }: add the bot again with its new token from business.max.ru.
health-webhook-failing = Telegram cannot deliver the messages of { $bot } to the bridge ({ $error }); updates waiting: { $pending }. Check that the bridge is reachable at its public address, or tell whoever runs it.
health-webhook-failing-short = Telegram cannot deliver the messages of { $bot } to the bridge, and they are piling up. Check that the bridge is reachable at its public address, or tell whoever runs it.
health-webhook-elsewhere = The updates of { $bot } go to another address, not to this bridge (another service may use the same bot): add the bot again here to take it back.
health-check-failed = The last check got no answer from the messenger ({ $error }); what is shown is from the check before.
health-mg-refused = The CRM's chat gateway refuses this account's token and the CRM gave no new one: connect the CRM again.
health-delivery-failures = More than { $percent } % of the messages of the last { $minutes } minutes could not be delivered: open the failed deliveries to see why.
health-notify = { $module }: { $problem } Settings: { $url }

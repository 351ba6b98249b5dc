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
settings-bots = Telegram bots
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
settings-back = Back to the CRM
settings-date-unknown = unknown

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

## The connect page
connect-title = Подключение CRM
connect-lead = Подключите своих Telegram-ботов к чатам CRM. Укажите адрес вашей CRM и API-ключ — модуль сам зарегистрируется в CRM.
connect-crm-url = Адрес CRM
connect-crm-url-hint = Адрес, по которому вы открываете CRM, например https://yourshop.retailcrm.ru
connect-api-key = API-ключ
connect-api-key-hint = Создайте его в CRM в разделе Настройки → Интеграция → Ключи доступа к API с правами integration_read и integration_write.
connect-submit = Подключить

## The settings page
settings-title = Настройки
settings-heading = CRM подключена
settings-reconnect = Чат-шлюз больше не принимает токен этого аккаунта, поэтому сообщения не доставляются.
settings-reconnect-link = Подключите CRM заново
settings-reconnect-after = , чтобы это исправить.
settings-crm = CRM
settings-status = Состояние
settings-status-active = Работает
settings-status-frozen = Заморожен в CRM
settings-status-off = Выключен в CRM
settings-mg-endpoint = Чат-шлюз
settings-connected = Подключено
settings-bots = Telegram-боты
settings-no-bots = Ботов пока нет. Добавьте бота ниже — его чаты появятся в CRM.
settings-bot = Бот
settings-bot-channel = Канал
settings-bot-status = Состояние
settings-bot-added = Добавлен
settings-bot-active = Работает
settings-bot-removed = Удалён
settings-bot-remove = Удалить
settings-add-bot = Добавить бота
settings-add-bot-hint = Создайте бота через @BotFather в Telegram и вставьте токен, который он выдаст, например 123456789:AAH…
settings-add-bot-submit = Добавить бота
settings-back = Вернуться в CRM
settings-date-unknown = неизвестно

## Message pages
message-connect-link = Подключить CRM
page-not-found = Страница не найдена
page-not-found-text = По этому адресу ничего нет.
page-not-found-reconnect = По этому адресу ничего нет. Если вы перешли по ссылке из CRM, подключите CRM заново.
page-form-expired = Форма устарела
page-form-expired-text = Форма устарела или была отправлена с другого сайта. Откройте страницу снова и отправьте форму ещё раз.
page-bad-request = Неверный запрос
page-bad-request-text = Не удалось прочитать запрос. Откройте страницу снова и отправьте форму ещё раз.
page-internal = Что-то пошло не так
page-internal-text = У нас что-то пошло не так. Попробуйте ещё раз через несколько минут.

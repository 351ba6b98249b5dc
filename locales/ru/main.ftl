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
settings-bots = Боты
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
settings-business = Аккаунты Telegram Business
settings-business-howto = Отвечать из CRM можно и в личном аккаунте Telegram: в Telegram откройте Настройки → Telegram для бизнеса → Чат-боты и выберите одного из ботов выше. Каждый так подключённый аккаунт появится здесь со своим каналом.
settings-business-account = Аккаунт
settings-business-rights = Права
settings-business-connected = Подключён
settings-business-off = Выключен
settings-business-can-reply = отвечать
settings-business-can-read = отмечать прочитанным
settings-bot-messenger = Мессенджер
settings-add-max-bot = Добавить бота MAX
settings-add-max-bot-hint = Создайте бота на business.max.ru (Чат-боты → Создать бота) и вставьте его токен с вкладки «Интеграция».
settings-back = Вернуться в CRM
settings-date-unknown = неизвестно

## The failed list
failed-title = Недоставленные сообщения
failed-alert = Некоторые сообщения не дошли до чата: см. «Недоставленные сообщения»
failed-none = Недоставленных сообщений нет: все сообщения последних дней дошли до своих чатов.
failed-howto = Эти сообщения не дошли до чата. Устраните указанную причину и отправьте их снова; повторно отправленное сообщение встанет после сообщений своего чата, пришедших за это время. «Удалить» убирает сообщение насовсем.
failed-retry-all = Отправить все снова
failed-retry = Отправить снова
failed-discard = Удалить
failed-when = Ошибка
failed-accepted = получено
failed-direction = Направление
failed-direction-to-crm = Клиент → CRM
failed-direction-to-messenger = CRM → клиент
failed-customer = Клиент
failed-customer-unknown = (без имени)
failed-reason = Причина
failed-attempts = Попытки
failed-outcome-retry = ошибка, повтор позже
failed-outcome-failed = ошибка, без повтора
failed-newer = ← Новее
failed-older = Старее →
failed-reason-refused-by-mg = Чат CRM отклонил сообщение.
failed-reason-refused-by-messenger = Мессенджер отклонил сообщение.
failed-reason-customer-unreachable = Клиент заблокировал бота, или ему нельзя написать.
failed-reason-reply-window-closed = Время на ответ истекло (Telegram Business даёт 24 часа).
failed-reason-spam-suspicion = Мессенджер счёл сообщение спамом.
failed-reason-gave-up = Сутки не удавалось доставить (другая сторона не отвечала); отправьте снова, когда она заработает.
failed-reason-unknown = Не доставлено.

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

## Why a CRM address was refused (inside error-connect-invalid-url)
address-empty = укажите адрес вашей CRM, например https://yourshop.retailcrm.ru
address-unreadable = { $address } не читается как URL ({ $error })
address-https-only = CRM доступна только по https; укажите https://
address-not-web = { $scheme }:// — это не веб-адрес; укажите https://
address-user-info = адрес не должен содержать имя пользователя или пароль
address-port = адрес не должен содержать порт
address-path = укажите только адрес CRM, без пути (например https://yourshop.retailcrm.ru)
address-no-host = в адресе нет имени хоста

## Why the CRM did not register the chat transport (inside error-connect-chats)
chats-no-endpoint = в её ответе нет адреса MessageGateway
chats-empty-token = в её ответе пустой токен MessageGateway
chats-unusable-endpoint = в её ответе нет пригодного адреса MessageGateway
chats-endpoint-not-public = адрес MessageGateway не находится в публичном интернете: { $reason }
chats-endpoint-unresolvable = адрес MessageGateway не разрешается в DNS
# The CRM's own words, quoted.
chats-crm-said = { $message }

## Connecting
error-internal = У нас что-то пошло не так. Попробуйте ещё раз через несколько минут.
error-connect-invalid-url = Неверный адрес CRM: { $reason }.
error-connect-host-not-allowed = К адресу { $host } этот модуль подключаться не может. Укажите адрес своей CRM, например https://yourshop.retailcrm.ru.
error-connect-blocked = Адрес { $host } указывает на { $ip } ({ $class }). Модуль подключается только к CRM в публичном интернете.
error-connect-unresolvable = Адрес { $host } не разрешается ни в один IP-адрес. Проверьте адрес и попробуйте снова.
error-connect-unreachable = Не удалось связаться с CRM по адресу { $url } ({ $reason }). Проверьте адрес и попробуйте снова.
error-connect-not-a-crm = { $url } отвечает не как CRM. Проверьте, что это тот адрес, по которому вы открываете CRM.
error-connect-wrong-key = CRM не принимает этот API-ключ. Скопируйте ключ ещё раз в CRM: Настройки → Интеграция → Ключи доступа к API.
error-connect-missing-scopes = У этого API-ключа нет прав { $scopes }. Отредактируйте ключ в CRM, разрешите их и попробуйте снова.
error-connect-no-api-v5 = Эта CRM не поддерживает API версии 5 (доступны: { $versions }). Модулю нужен API v5.
error-connect-no-versions = никакие
error-connect-payment = CRM не активировала модуль из-за нехватки средств: { $message }. Пополните баланс аккаунта CRM и подключитесь снова.
error-connect-chats = CRM не зарегистрировала чат-транспорт модуля ({ $reason }). Проверьте, что чаты включены в настройках CRM, и подключитесь снова.
error-connect-crm = CRM ответила ошибкой ({ $reason }). Попробуйте ещё раз через несколько минут.
error-api-key-empty = Укажите API-ключ, созданный в CRM.
error-api-key-too-long = Этот API-ключ слишком длинный: ключи API в CRM — короткие строки из букв и цифр.
error-api-key-characters = В этом API-ключе есть пробелы или другие символы, которых в ключах не бывает.

## The simple connection
error-register-no-data = Данные не переданы: поле формы `register` отсутствует или пустое.
error-register-invalid-json = Неверный JSON: `register` должен быть JSON-объектом с полями token, apiKey и systemUrl.
error-register-too-large = тело запроса слишком большое

## Bots
error-bot-token-empty = Укажите токен бота: @BotFather выдаёт его при создании бота (/newbot) или повторно по команде /token.
error-bot-token-shape = Это не похоже на токен бота: это текст, который выдал @BotFather, например 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw (цифры, двоеточие, затем буквы и цифры).
error-bot-token-characters = В этом токене есть пробелы или другие символы, которых в токенах не бывает: скопируйте его ещё раз из @BotFather целиком.
error-bot-token-length = Токен обрезан или содержит лишний текст: после двоеточия в токене около 35 букв, цифр, дефисов и подчёркиваний. Скопируйте его ещё раз из @BotFather.
error-bot-token-hint-telegram = Скопируйте его ещё раз из @BotFather (или получите новый командой /token).
error-max-token-empty = Введите токен бота MAX: он на вкладке «Интеграция» бота на business.max.ru.
error-max-token-characters = В токене MAX есть пробелы или другие символы, которых в токене не бывает: скопируйте его ещё раз целиком.
error-max-token-length = Токен MAX обрезан или содержит лишний текст: скопируйте его ещё раз с вкладки «Интеграция».
error-bot-token-hint-max = Скопируйте его ещё раз со страницы бота на business.max.ru (Чат-боты → Интеграция).
error-bot-account-disabled = Модуль выключен или заморожен в CRM. Включите его в Маркетплейсе CRM, затем добавьте бота.
error-bot-needs-reconnect = Чат-шлюз больше не принимает токен этого аккаунта. Подключите CRM заново, затем добавьте бота.
error-bot-token-rejected = { $messenger } не принимает этот токен. { $hint }
error-bot-messenger-unreachable = Не удалось связаться с { $messenger } ({ $reason }). Попробуйте ещё раз через минуту.
error-bot-messenger-refused = { $messenger } отказал: { $reason }.
error-bot-taken = Бот @{ $bot } уже подключён к другому аккаунту CRM. Сначала удалите его там.
error-bot-mg-refused = Чат-шлюз отклонил канал: { $reason }.
error-bot-mg-unreachable = Не удалось связаться с чат-шлюзом ({ $reason }). Попробуйте ещё раз через минуту.
error-remove-needs-reconnect = Чат-шлюз больше не принимает токен этого аккаунта. Подключите CRM заново, затем удалите бота.
error-remove-mg-unreachable = Не удалось связаться с чат-шлюзом ({ $reason }). Ничего не удалено; попробуйте ещё раз через минуту.
error-remove-mg-refused = Чат-шлюз отказался удалить канал: { $reason }.

## What the bridge writes for a customer's message MG has no type for, in the customer's language
customer-location = 📍 Геопозиция: { $latitude }, { $longitude } { $map }
customer-live-location = 📍 Трансляция геопозиции: { $latitude }, { $longitude } { $map }
customer-contact = 👤 Контакт: { $name }, { $phone }
customer-contact-phone = 👤 Контакт: { $phone }
customer-poll = 📊 Опрос: { $question }
customer-quiz = 📊 Викторина: { $question }
customer-sticker = {"["}стикер]
customer-too-large = 📎 { $name } — слишком большой файл, бот не может его скачать; попросите клиента прислать его другим способом
customer-too-large-sized = 📎 { $name } ({ $size }) — слишком большой файл, бот не может его скачать; попросите клиента прислать его другим способом
customer-megabytes = { $size } МБ
customer-file = файл
customer-file-photo = фото
customer-file-animation = анимация
customer-file-video = видео
customer-file-video-message = видеосообщение
customer-file-voice-message = голосовое сообщение
customer-file-audio = аудио
customer-file-sticker = стикер
customer-forwarded = ↪ Переслано от { $name }
customer-forwarded-unknown = ↪ Пересланное сообщение
customer-dice = { $emoji } Кубик: { $value }
customer-story = 📰 История от { $name } (открывается только в Telegram)
customer-story-unknown = 📰 История (открывается только в Telegram)
customer-checklist = ☑️ Список задач: { $title }
customer-paid-media = ⭐ Платные медиа за { $stars } звёзд (открываются только в Telegram)
customer-giveaway = 🎁 Розыгрыш, победителей: { $count }
customer-giveaway-winners = 🏆 Победители розыгрыша ({ $count }): { $names }
customer-web-app-data = 🧩 Данные веб-приложения ({ $button }): { $data }
customer-game = 🎮 Игра: { $title }
customer-invoice = 🧾 Счёт: { $title }, { $amount } { $currency }
customer-payment = 💳 Оплата: { $amount } { $currency }
customer-refund = ↩️ Возврат: { $amount } { $currency }
customer-service = ℹ️ Служебное сообщение Telegram, которое мост не может показать ({ $kind })
customer-unsupported = ℹ️ Сообщение Telegram, которое мост не может показать; посмотрите чат в Telegram

## Product and order cards, in the account's language
card-article = Артикул:
card-order = Заказ
card-order-number = Заказ №{ $number }
card-status = Статус:
card-delivery = Доставка:
card-address = Адрес:
card-payment = Оплата:
card-discount = Скидка:
card-total = Итого: { $amount }
card-paid = оплачено
card-not-paid = не оплачено
card-status-new = новый
card-status-approval = согласование
card-status-assembling = комплектация
card-status-delivery = доставка
card-status-complete = выполнен
card-status-cancelled = отменён

## The bots' health on the settings page, and the CRM administrators' notifications
health-heading = Состояние ботов
health-token = Токен
health-token-ok = действует
health-token-bad = отозван
health-webhook = Вебхук
health-checked = Проверено
health-not-checked = ещё не проверялся
health-last-in = Последнее сообщение клиента
health-last-out = Последнее сообщение оператора
health-delivered = Доставлено (24 ч)
health-failed = Не доставлено (24 ч)
health-blocked = Клиентов, заблокировавших бота
health-reply-p50 = Первый ответ, медиана (7 дней)
health-reply-p90 = Первый ответ, 90 % быстрее (7 дней)
health-replies = Чатов с ответом (7 дней)
health-unanswered = Чатов без ответа дольше 15 мин (7 дней)
health-never = никогда
health-no-replies = ответов ещё нет
health-webhook-ok = работает (ожидают обновлений: { $pending })
health-webhook-error = сбоит: { $error } (ожидают обновлений: { $pending })
health-webhook-not-ours = направлен не на этот мост
health-webhook-unknown = неизвестно, пока токен отклоняется
health-duration-seconds = { $n } с
health-duration-minutes = { $n } мин
health-duration-hours = { $h } ч { $m } мин
health-token-revoked = Токен бота { $bot } отозван в @BotFather: добавьте бота заново с новым токеном.
health-token-revoked-max = MAX больше не принимает токен бота { $bot }: добавьте бота заново с новым токеном с business.max.ru.
health-webhook-failing = Telegram не может доставить мосту сообщения бота { $bot } ({ $error }); ожидают обновлений: { $pending }. Проверьте, что мост доступен по своему публичному адресу, или сообщите тем, кто его обслуживает.
health-webhook-failing-short = Telegram не может доставить мосту сообщения бота { $bot }, и они копятся. Проверьте, что мост доступен по своему публичному адресу, или сообщите тем, кто его обслуживает.
health-webhook-elsewhere = Обновления бота { $bot } уходят на другой адрес, не на этот мост (возможно, того же бота использует другой сервис): добавьте бота здесь заново, чтобы вернуть их.
health-check-failed = Последняя проверка не получила ответа от мессенджера ({ $error }); показаны данные предыдущей.
health-mg-refused = Шлюз чатов CRM отклоняет токен этого аккаунта, а CRM не выдала новый: подключите CRM заново.
health-delivery-failures = Более { $percent } % сообщений за последние { $minutes } мин не удалось доставить: откройте недоставленные, чтобы увидеть причину.
health-notify = { $module }: { $problem } Настройки: { $url }

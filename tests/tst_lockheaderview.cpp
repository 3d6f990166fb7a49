#include "lockheaderview.h"
#include "models/locktablemodel.h"

#include <QMenu>
#include <QStandardItemModel>
#include <QTableView>
#include <QTest>

/// The lock table header's fitting rules and the operator's widths, on a table with the lock
/// table's columns and texts of known lengths.
class TestLockHeaderView : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        m_model = std::make_unique<QStandardItemModel>(3, LockTableModel::ColumnCount);
        const QStringList titles{"Group", "Key",  "Schema", "Kind",  "Owner",
                                 "TTL",   "Held", "Fence",  "Token", "Age"};
        m_model->setHorizontalHeaderLabels(titles);
        for (int row = 0; row < 3; ++row) {
            m_model->setItem(row, LockTableModel::Group,
                             new QStandardItem(QStringLiteral("payments-redlock")));
            m_model->setItem(row, LockTableModel::Key,
                             new QStandardItem(QStringLiteral("jobs:") + QString(80, u'k')));
            m_model->setItem(row, LockTableModel::Schema, new QStandardItem(QStringLiteral("LockScope")));
            m_model->setItem(row, LockTableModel::Owner, new QStandardItem(QString(60, u'o')));
            m_model->setItem(row, LockTableModel::Ttl, new QStandardItem(QStringLiteral("12 s")));
        }
        m_table = std::make_unique<QTableView>();
        m_table->setModel(m_model.get());
        m_header = new LockHeaderView(m_table.get());
        m_table->resize(2400, 400);
        m_table->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_table.get()));
        m_em = m_header->fontMetrics().horizontalAdvance(QLatin1Char('m'));
    }

    void cleanup()
    {
        m_table.reset();
        m_model.reset();
    }

    void wideTableKeepsContentWidths()
    {
        m_header->fitColumns();
        const int key = m_header->sectionSize(LockTableModel::Key);
        const int owner = m_header->sectionSize(LockTableModel::Owner);
        // Up to a cap of 40 em: beyond that a key is read in the tooltip and in Details.
        QVERIFY2(key >= std::min(contentWidth(LockTableModel::Key), 40 * m_em),
                 qPrintable(QString::number(key)));
        QVERIFY(owner >= contentWidth(LockTableModel::Owner));
        QVERIFY(m_header->sectionSize(LockTableModel::Group) >= contentWidth(LockTableModel::Group));
    }

    void narrowTableSharesTheRest()
    {
        m_table->resize(900, 400);
        m_header->fitColumns();
        int row = 0;
        for (int column = 0; column < m_header->count(); ++column)
            row += m_header->isSectionHidden(column) ? 0 : m_header->sectionSize(column);
        // Key and owner are cut so that the row fits; the key keeps more than the owner; the
        // short names keep their content width ("payments-redlock" is never cut).
        QVERIFY2(row <= m_table->viewport()->width() + 1,
                 qPrintable(QStringLiteral("%1 > %2").arg(row).arg(m_table->viewport()->width())));
        QVERIFY(m_header->sectionSize(LockTableModel::Key) > m_header->sectionSize(LockTableModel::Owner));
        QVERIFY(m_header->sectionSize(LockTableModel::Key) < contentWidth(LockTableModel::Key));
        QVERIFY(m_header->sectionSize(LockTableModel::Group) >= contentWidth(LockTableModel::Group));
        QVERIFY(m_header->sectionSize(LockTableModel::Owner) >= 5 * m_em);
    }

    void schemaGivesWayToTheOwner()
    {
        // A long schema name on a narrow table: it is cut (to 7 em at least) before the owner
        // falls below 10 em; the group and the kind keep their text.
        for (int row = 0; row < 3; ++row) {
            m_model->setItem(row, LockTableModel::Schema, new QStandardItem(QString(40, u's')));
            m_model->setItem(row, LockTableModel::Kind, new QStandardItem(QStringLiteral("semaphore 2/3")));
        }
        m_table->resize(1000, 400);
        m_header->fitColumns();
        QVERIFY2(m_header->sectionSize(LockTableModel::Owner) >= 10 * m_em,
                 qPrintable(QString::number(m_header->sectionSize(LockTableModel::Owner))));
        QVERIFY(m_header->sectionSize(LockTableModel::Schema) < contentWidth(LockTableModel::Schema));
        QVERIFY(m_header->sectionSize(LockTableModel::Schema) >= 7 * m_em);
        QVERIFY(m_header->sectionSize(LockTableModel::Kind) >= contentWidth(LockTableModel::Kind));
        QVERIFY(m_header->sectionSize(LockTableModel::Group) >= contentWidth(LockTableModel::Group));
        // With room enough, they keep their content width again.
        m_table->resize(2400, 400);
        m_header->fitColumns();
        QVERIFY(m_header->sectionSize(LockTableModel::Schema) >=
                std::min(contentWidth(LockTableModel::Schema), 14 * m_em));
    }

    void columnsFollowTheTableUntilTheOperatorSizesOne()
    {
        m_table->resize(900, 400);
        m_header->fitForGroup(QStringLiteral("g"));
        QVERIFY(!m_header->userSized());
        const int narrow = m_header->sectionSize(LockTableModel::Key);
        m_table->resize(2400, 400);
        QTRY_VERIFY(m_header->sectionSize(LockTableModel::Key) > narrow);

        // The operator drags the key's handle: the widths are theirs from then on.
        m_table->resize(900, 400);
        QTRY_COMPARE(m_header->sectionSize(LockTableModel::Key), narrow);
        const int handle = m_header->sectionViewportPosition(LockTableModel::Key) + narrow - 1;
        const int y = m_header->height() / 2;
        QTest::mousePress(m_header->viewport(), Qt::LeftButton, {}, QPoint(handle, y));
        QMouseEvent move(QEvent::MouseMove, QPointF(handle - 60, y),
                         m_header->viewport()->mapToGlobal(QPointF(handle - 60, y)), Qt::NoButton,
                         Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(m_header->viewport(), &move);
        QTest::mouseRelease(m_header->viewport(), Qt::LeftButton, {}, QPoint(handle - 60, y));
        QVERIFY(m_header->userSized());
        const int operatorKey = m_header->sectionSize(LockTableModel::Key);
        QVERIFY(operatorKey < narrow);
        m_table->resize(2400, 400);
        QTest::qWait(300);
        QCOMPARE(m_header->sectionSize(LockTableModel::Key), operatorKey);
        // A new group's first locks do not override them either.
        m_header->fitForGroup(QStringLiteral("h"));
        QCOMPARE(m_header->sectionSize(LockTableModel::Key), operatorKey);

        // Reset Layout: fitted again.
        m_header->resetToFitted();
        QVERIFY(!m_header->userSized());
        QVERIFY(m_header->sectionSize(LockTableModel::Key) > operatorKey);
    }

    void resizesBeforeTheFirstLocksAreNotFitted()
    {
        // Nothing was fitted yet (no locks): the table's own widths stay as set.
        m_header->resizeSection(LockTableModel::Key, 50);
        m_table->resize(1000, 400);
        QTest::qWait(300);
        QCOMPARE(m_header->sectionSize(LockTableModel::Key), 50);
    }

    void fittedOncePerGroup()
    {
        m_header->fitForGroup(QStringLiteral("g"));
        m_header->resizeSection(LockTableModel::Key, 50); // not by the operator's hand
        m_header->fitForGroup(QStringLiteral("g"));
        QCOMPARE(m_header->sectionSize(LockTableModel::Key), 50);
        m_header->forgetFittedGroups();
        m_header->fitForGroup(QStringLiteral("g"));
        QVERIFY(m_header->sectionSize(LockTableModel::Key) > 50);
    }

    void columnMenuShowsAndHidesColumns()
    {
        m_header->setSectionHidden(LockTableModel::Token, true);
        std::unique_ptr<QMenu> menu(m_header->createColumnMenu(nullptr));
        const QList<QAction *> actions = menu->actions();
        QCOMPARE(actions.size(), int(LockTableModel::ColumnCount));
        QCOMPARE(actions.at(LockTableModel::Key)->text(), QStringLiteral("Key"));
        QVERIFY(actions.at(LockTableModel::Key)->isChecked());
        QVERIFY(!actions.at(LockTableModel::Token)->isChecked());
        actions.at(LockTableModel::Token)->trigger();
        QVERIFY(!m_header->isSectionHidden(LockTableModel::Token));
        actions.at(LockTableModel::Owner)->trigger();
        QVERIFY(m_header->isSectionHidden(LockTableModel::Owner));
    }

private:
    /// What the column's cells need (QAbstractItemView's public hint).
    int contentWidth(int column) const
    {
        return static_cast<const QAbstractItemView *>(m_table.get())->sizeHintForColumn(column);
    }

    std::unique_ptr<QStandardItemModel> m_model;
    std::unique_ptr<QTableView> m_table;
    LockHeaderView *m_header = nullptr;
    int m_em = 0;
};

QTEST_MAIN(TestLockHeaderView)
#include "tst_lockheaderview.moc"
